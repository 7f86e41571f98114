"""Usernames under one form (NFKC + casefold, practitioners/usernames.py), and no two accounts
that PostgreSQL's case-insensitive match (UPPER) would confuse."""

import django.db.models.functions.text
from django.db import migrations, models


def normalise_usernames(apps, schema_editor):
    from practitioners.usernames import username_normalize

    User = apps.get_model("practitioners", "User")
    users = User.objects.using(schema_editor.connection.alias)  # the owner's, not the app's
    for user in users.order_by("pk").only("pk", "username"):
        normalised = username_normalize(user.username)
        if normalised != user.username:
            # Two existing accounts that fold to one name stop the migration here (unique
            # constraint): an admin has to rename one of them first.
            users.filter(pk=user.pk).update(username=normalised)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("practitioners", "0004_account_event_link_checked"),
    ]

    operations = [
        migrations.RunPython(normalise_usernames, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Upper("username"),
                name="user_username_upper_unique",
                violation_error_message="Cet identifiant est déjà utilisé.",
            ),
        ),
    ]
