"""Django admin for accounts: practitioners with their RPPS, exercise contexts and Ordoclic link.

Only the admin role reaches the admin site (is_staff is reserved to it by a database
constraint), after the same two-step login as everybody else.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from .forms import ExerciseContextForm, PractitionerAccountCreateForm, PractitionerForm
from .models import (
    AccountEvent,
    ExerciseContext,
    OrdoclicLinkStatus,
    Practitioner,
    Role,
    User,
)
from .ordoclic import OrdoclicUnavailable, practitioner_link_ordoclic
from .services import practitioner_account_create, totp_device_ensure, totp_device_reset
from .totp import totp_provisioning

LINK_BADGES = {
    OrdoclicLinkStatus.LINKED: "badge-ok",
    OrdoclicLinkStatus.UNLINKED: "badge-muted",
    OrdoclicLinkStatus.DEACTIVATED: "badge-warn",
    OrdoclicLinkStatus.ERROR: "badge-danger",
}


def link_practitioners(request: HttpRequest, practitioners: list[Practitioner]) -> None:
    """Check each practitioner's RPPS at Ordoclic and tell the admin the outcome."""
    for practitioner in practitioners:
        try:
            result = practitioner_link_ordoclic(practitioner=practitioner, acting_user=request.user)
        except OrdoclicUnavailable as unavailable:
            messages.warning(
                request,
                _("%(name)s : Ordoclic est injoignable, état inchangé. %(error)s")
                % {"name": practitioner.display_name, "error": unavailable.message},
            )
            continue
        status = result.ordoclic_link_status
        if status == OrdoclicLinkStatus.LINKED:
            messages.success(
                request,
                _("%(name)s : compte lié à Ordoclic et actif.") % {"name": result.display_name},
            )
        elif status == OrdoclicLinkStatus.DEACTIVATED:
            messages.warning(
                request,
                _("%(name)s : connu d'Ordoclic mais désactivé ; il ne pourra pas signer.")
                % {"name": result.display_name},
            )
        else:
            messages.error(
                request,
                _("%(name)s : liaison impossible. %(error)s")
                % {"name": result.display_name, "error": result.ordoclic_last_error},
            )


class ExerciseContextInline(admin.StackedInline):
    model = ExerciseContext
    form = ExerciseContextForm
    extra = 0
    min_num = 0
    fieldsets = [
        (None, {"fields": [("name", "is_active"), "kind", ("finess", "am_number")]}),
        (None, {"fields": [("address", "postcode", "city"), "phone"]}),
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Prescriptions refer to their context: deactivate it instead.
        return False


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    form = PractitionerForm
    inlines = [ExerciseContextInline]
    list_display = [
        "name_column",
        "rpps",
        "specialty",
        "link_badge",
        "ordoclic_verified_at",
        "contexts_column",
        "is_active",
    ]
    list_display_links = ["name_column", "rpps"]
    list_filter = ["ordoclic_link_status", "profession", "is_active"]
    search_fields = ["user__last_name", "user__first_name", "user__username", "rpps"]
    list_select_related = ["user"]
    readonly_fields = [
        "link_badge",
        "ordoclic_professional_id",
        "ordoclic_verified_at",
        "ordoclic_last_error",
    ]
    autocomplete_fields = ["user"]
    actions = ["link_to_ordoclic"]
    change_form_template = "admin/practitioners/practitioner/change_form.html"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Prescriptions refer to the practitioner: deactivate the account instead.
        return False

    fieldsets = [
        (
            gettext_lazy("Praticien"),
            {"fields": ["user", "rpps", ("profession", "specialty"), "is_active"]},
        ),
        (
            gettext_lazy("Liaison Ordoclic"),
            {
                "fields": [
                    "link_badge",
                    "ordoclic_professional_id",
                    "ordoclic_verified_at",
                    "ordoclic_last_error",
                ],
                "description": gettext_lazy(
                    "L'état est établi par Ordoclic à partir du RPPS. Vérifiez-le après toute "
                    "modification du RPPS."
                ),
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Practitioner]:
        return super().get_queryset(request).annotate(contexts_count=Count("exercise_contexts"))

    @admin.display(description=gettext_lazy("Praticien"), ordering="user__last_name")
    def name_column(self, obj: Practitioner) -> str:
        return obj.display_name

    @admin.display(description=gettext_lazy("Lieux d'exercice"), ordering="contexts_count")
    def contexts_column(self, obj: Practitioner) -> int:
        return int(getattr(obj, "contexts_count", 0))

    @admin.display(description=gettext_lazy("Liaison Ordoclic"), ordering="ordoclic_link_status")
    def link_badge(self, obj: Practitioner) -> str:
        status = OrdoclicLinkStatus(obj.ordoclic_link_status)
        return format_html('<span class="badge {}">{}</span>', LINK_BADGES[status], status.label)

    @admin.action(description=gettext_lazy("Lier à Ordoclic / Vérifier"))
    def link_to_ordoclic(self, request: HttpRequest, queryset: QuerySet[Practitioner]) -> None:
        link_practitioners(request, list(queryset.select_related("user")))

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        custom = [
            path(
                "<int:practitioner_id>/ordoclic/",
                self.admin_site.admin_view(self.link_view),
                name=f"{opts.app_label}_{opts.model_name}_ordoclic",
            ),
        ]
        return custom + super().get_urls()

    def link_view(self, request: HttpRequest, practitioner_id: int) -> HttpResponse:
        return require_POST(self._link_view)(request, practitioner_id)

    def _link_view(self, request: HttpRequest, practitioner_id: int) -> HttpResponse:
        practitioner = get_object_or_404(
            Practitioner.objects.select_related("user"), pk=practitioner_id
        )
        if not self.has_change_permission(request, practitioner):
            raise PermissionDenied
        link_practitioners(request, [practitioner])
        return HttpResponseRedirect(
            reverse("admin:practitioners_practitioner_change", args=[practitioner.pk])
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """One form for the whole account: user, RPPS, profession, first exercise context."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PractitionerAccountCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            practitioner = practitioner_account_create(
                acting_user=cast(User, request.user), **form.cleaned_data
            )
            device = totp_device_ensure(user=practitioner.user)
            return render(
                request,
                "admin/practitioners/practitioner/account_created.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": _("Compte créé"),
                    "practitioner": practitioner,
                    "provisioning": totp_provisioning(device),
                    "change_url": reverse(
                        "admin:practitioners_practitioner_change", args=[practitioner.pk]
                    ),
                },
            )
        return render(
            request,
            "admin/practitioners/practitioner/account_create.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Nouveau compte prescripteur"),
                "form": form,
                "fieldsets": [
                    (_("Compte"), ["username", "first_name", "last_name", "email", "password"]),
                    (_("Praticien"), ["rpps", "profession", "specialty"]),
                    (
                        _("Premier lieu d'exercice"),
                        [
                            "context_name",
                            "finess",
                            "am_number",
                            "address",
                            "postcode",
                            "city",
                            "phone",
                        ],
                    ),
                ],
            },
            status=400 if form.errors else 200,
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        extra = {
            **(extra_context or {}),
            "now": timezone.now(),
        }
        return super().change_view(request, object_id, form_url, extra)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "get_full_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "first_name", "last_name", "email", "practitioner__rpps"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (gettext_lazy("Identité"), {"fields": ["first_name", "last_name", "email"]}),
        (
            gettext_lazy("Accès"),
            {
                "fields": ["role", "is_active"],
                "description": gettext_lazy(
                    "Un compte désactivé ne peut plus se connecter. Seul le rôle "
                    "administrateur donne accès à cette administration."
                ),
            },
        ),
        (gettext_lazy("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "role", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    @admin.display(description=gettext_lazy("Nom"))
    def get_full_name(self, obj: User) -> str:
        return obj.get_full_name()

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # Access to this admin site follows the role (the database refuses anything else).
        obj.is_staff = obj.role == Role.ADMIN
        obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)
        if obj.role in (Role.PRESCRIBER, Role.ADMIN):
            totp_device_ensure(user=obj)


@admin.register(AccountEvent)
class AccountEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "user", "acting_user"]
    list_filter = ["kind"]
    search_fields = ["user__username", "acting_user__username"]
    list_select_related = ["user", "acting_user"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# django-otp's own admin shows a device's key, its otpauth URI and its QR code at any time (the
# config and qrcode pages): a secret readable again and again is a shared secret. Ours shows
# none of them; the secret is shown once, when it is made (account creation, or a reset here).
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user"]
    fields = [
        "user",
        "name",
        "confirmed",
        "created_at",
        "last_used_at",
        "throttling_failure_count",
        "throttling_failure_timestamp",
    ]
    readonly_fields = [
        "user",
        "created_at",
        "last_used_at",
        "throttling_failure_count",
        "throttling_failure_timestamp",
    ]
    actions = ["totp_reset"]

    def get_urls(self) -> list[URLPattern]:
        # ModelAdmin's pages only: not django-otp's config and qrcode pages.
        return admin.ModelAdmin.get_urls(self)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Devices are made with the account (and reset here): never with a key typed by hand.
        return False

    @admin.action(description=gettext_lazy("Réinitialiser le second facteur (nouvelle clé)"))
    def totp_reset(
        self, request: HttpRequest, queryset: QuerySet[TOTPDevice]
    ) -> HttpResponse | None:
        devices = list(queryset.select_related("user")[:2])
        if len(devices) != 1:
            messages.error(request, _("Réinitialisez un second facteur à la fois."))
            return None
        device = totp_device_reset(device=devices[0], acting_user=cast(User, request.user))
        return render(
            request,
            "admin/otp_totp/totpdevice/reset_done.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Second facteur réinitialisé"),
                "device": device,
                "provisioning": totp_provisioning(device),
            },
        )


admin.site.site_header = gettext_lazy("origami · administration")
admin.site.site_title = gettext_lazy("origami")
admin.site.enable_nav_sidebar = False
admin.site.index_title = gettext_lazy("Comptes, praticiens et patients")
