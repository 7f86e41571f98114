# The patient search compares names without accents (unaccent) and without case.

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [UnaccentExtension()]
