"""The Celery application. Settings live in origami/settings/celery.py (CELERY_ namespace)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "origami.settings.local")

app = Celery("origami")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
