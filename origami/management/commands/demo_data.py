"""`python manage.py demo_data`: load the demo accounts and patients (idempotent) and print what
a tester needs to log in."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand

from origami.demo import demo_accounts_load, demo_patients_load
from practitioners.models import Practitioner, User
from practitioners.ordoclic import OrdoclicUnavailable, practitioner_link_ordoclic
from practitioners.totp import totp_provisioning


class Command(BaseCommand):
    help = "Crée ou met à jour les comptes et patients de démonstration."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-link",
            action="store_true",
            help="Ne pas tenter de lier les praticiens à Ordoclic (bac à sable).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logins = demo_accounts_load()
        patient_count = demo_patients_load()
        self.stdout.write(
            self.style.SUCCESS(f"Données de démonstration prêtes : {patient_count} patients.")
        )
        self.stdout.write("")
        header = f"{'identifiant':<12} {'mot de passe':<14} {'rôle':<36} {'nom':<22} secret TOTP"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        uris = []
        for login in logins:
            secret = "(pas de second facteur)"  # noqa: S105 - a label, not a secret
            if login.totp_device is not None:
                provisioning = totp_provisioning(login.totp_device)
                secret = provisioning.secret
                uris.append((login.username, provisioning.uri))
            self.stdout.write(
                f"{login.username:<12} {login.password:<14} {login.role:<36} "
                f"{login.name:<22} {secret}"
            )
        self.stdout.write("")
        self.stdout.write("URI otpauth (à scanner ou coller dans une application TOTP) :")
        for username, uri in uris:
            self.stdout.write(f"  {username}: {uri}")
        self.stdout.write("")
        self.stdout.write("Code TOTP du moment : python manage.py totp_code IDENTIFIANT")
        if not options["no_link"]:
            self._link()

    def _link(self) -> None:
        """Link the demo prescribers at Ordoclic when the link service and the sandbox are
        there; never fail the command because of it."""
        admin = User.objects.get(username="admin")
        self.stdout.write("")
        self.stdout.write("Liaison Ordoclic des praticiens de démonstration :")
        for practitioner in Practitioner.objects.select_related("user").order_by("rpps"):
            try:
                result = practitioner_link_ordoclic(practitioner=practitioner, acting_user=admin)
            except (OrdoclicUnavailable, ImproperlyConfigured) as error:
                # The sandbox may not be up yet (or not started once): report and go on.
                self.stdout.write(
                    f"  {practitioner.rpps} {practitioner.display_name} : non vérifié — {error}"
                )
                continue
            detail = f" — {result.ordoclic_last_error}" if result.ordoclic_last_error else ""
            self.stdout.write(
                f"  {practitioner.rpps} {practitioner.display_name} : "
                f"{result.get_ordoclic_link_status_display()}{detail}"
            )
