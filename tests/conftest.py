"""Shared fixtures. Tests run on real PostgreSQL and Redis (see README: running the tests)."""

from collections.abc import Callable

import pytest
from django.test import Client


@pytest.fixture
def logged_in_client(client: Client) -> Callable[..., Client]:
    """`logged_in_client(user)` returns the test client logged in as `user`, second factor
    passed (see tests/helpers.py)."""
    from practitioners.models import User
    from tests.helpers import login

    def _login(user: User) -> Client:
        return login(client, user)

    return _login
