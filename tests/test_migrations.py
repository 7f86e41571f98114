"""The migrations describe the models exactly: a model changed without its migration (or two
branches' migrations merged into two leaves) fails here, not on a user's database."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_its_migration_and_there_is_one_leaf_per_app() -> None:
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    assert "No changes detected" in out.getvalue()
