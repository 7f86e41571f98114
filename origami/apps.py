from django.apps import AppConfig


class OrigamiConfig(AppConfig):
    name = "origami"
    verbose_name = "origami"

    def ready(self) -> None:
        # Connects the login-failure counter to django.contrib.auth's user_login_failed.
        from origami import metrics  # noqa: F401
