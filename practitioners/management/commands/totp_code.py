"""`python manage.py totp_code USERNAME`: print the TOTP code of the moment (demo and tests)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from practitioners.totp import totp_current_code


class Command(BaseCommand):
    help = "Affiche le code TOTP valable en ce moment pour un compte (démonstration)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        device = (
            TOTPDevice.objects.filter(user__username=options["username"], confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None:
            raise CommandError(
                f"Aucun second facteur TOTP pour le compte « {options['username']} »."
            )
        self.stdout.write(totp_current_code(device))
