from django.apps import AppConfig


class OrigamiConfig(AppConfig):
    name = "origami"
    verbose_name = "origami"
