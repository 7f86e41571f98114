"""Administration of the applications that read prescriptions in FHIR: the token is shown once,
when the application is created; only its SHA-256 is kept."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from practitioners.models import User

from .fhir.clients import fhir_client_create
from .models import FhirClient


@admin.register(FhirClient)
class FhirClientAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "token_hint", "is_active", "created_at", "last_used_at")
    fields = ("name", "is_active", "token_hint", "created_at", "last_used_at")
    readonly_fields = ("token_hint", "created_at", "last_used_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the audit trail names the application

    def save_model(self, request: HttpRequest, obj: FhirClient, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        assert isinstance(request.user, User)
        created, token = fhir_client_create(name=obj.name, acting_user=request.user)
        obj.pk = created.pk
        obj.token_sha256 = created.token_sha256
        obj.token_hint = created.token_hint
        obj._state.adding = False
        messages.warning(
            request,
            _(
                "Jeton de l'application « %(name)s », affiché une seule fois : %(token)s — "
                "copiez-le maintenant dans la configuration de l'application hôte."
            )
            % {"name": created.name, "token": token},
        )
