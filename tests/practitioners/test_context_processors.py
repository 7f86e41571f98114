"""The top bar's practitioner and exercise contexts are read once per request, however many
templates a response renders (page, partials, the context switcher) and whatever the views read
of them too."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.template import RequestContext, Template
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from practitioners.context_processors import exercise_context
from practitioners.selectors import EXERCISE_CONTEXT_SESSION_KEY, current_exercise_context
from tests.factories import ExerciseContextFactory, PrescriberFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db

TABLES = ("practitioners_practitioner", "practitioners_exercisecontext")


def reads_by_table(queries: CaptureQueriesContext) -> dict[str, int]:
    counts = dict.fromkeys(TABLES, 0)
    for query in queries.captured_queries:
        sql = query["sql"]
        for table in TABLES:
            if f'FROM "{table}"' in sql:
                counts[table] += 1
    return counts


def prescriber_with_two_contexts(client: Any) -> Any:
    user = PrescriberFactory()
    second = ExerciseContextFactory(practitioner=user.practitioner, name="Cabinet de Lyon")
    login(client, user)
    session = client.session
    session[EXERCISE_CONTEXT_SESSION_KEY] = second.pk
    session.save()
    return user


def test_a_page_reads_the_practitioner_and_the_contexts_once(client: Any) -> None:
    prescriber_with_two_contexts(client)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("patients:search"))
    assert response.status_code == 200
    assert "Cabinet de Lyon" in response.content.decode()  # the top bar shows the current one
    assert reads_by_table(queries) == {table: 1 for table in TABLES}


def test_renders_and_reads_within_one_request_share_the_first_read(client: Any) -> None:
    user = prescriber_with_two_contexts(client)
    request = RequestFactory().get("/")
    request.user = type(user).objects.get(pk=user.pk)
    request.session = client.session
    template = Template("{{ current_practitioner.rpps }} {{ current_exercise_context.name }}")
    with CaptureQueriesContext(connection) as queries:
        first = template.render(RequestContext(request, {}, [exercise_context]))
        for _ in range(4):  # partials, the switcher, a view's own reads
            assert template.render(RequestContext(request, {}, [exercise_context])) == first
            assert current_exercise_context(request) is not None
    assert "Cabinet de Lyon" in first
    assert reads_by_table(queries) == {table: 1 for table in TABLES}
