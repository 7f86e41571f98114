from django.apps import AppConfig


class PractitionersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "practitioners"
    verbose_name = "Comptes et praticiens"
