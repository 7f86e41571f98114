from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """An account of origami. Its role and practitioner data are added by the foundation work."""
