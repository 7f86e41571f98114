from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class OrigamiConfig(AppConfig):
    name = "origami"
    verbose_name = "origami"

    def ready(self) -> None:
        # Connects the login-failure counter to django.contrib.auth's user_login_failed.
        from origami import metrics  # noqa: F401

        from .db_roles import grants_after_migrate

        # post_migrate is sent once per app after all migrations ran: one sender is enough.
        post_migrate.connect(
            grants_after_migrate,
            sender=apps.get_app_config("practitioners"),
            dispatch_uid="origami_database_grants",
        )
