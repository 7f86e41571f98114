"""The exercise context of the session: automatic with one, asked with several, switchable."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from practitioners.models import AccountEvent, AccountEventKind
from practitioners.selectors import current_exercise_context
from practitioners.views import exercise_context_required
from tests.factories import ExerciseContextFactory, PrescriberFactory
from tests.helpers import login

pytestmark = pytest.mark.django_db


def _request_for(client, user, path="/ordonnances/nouvelle/"):
    """A request carrying the client's session, as a view wrapped by the decorator sees it."""
    request = RequestFactory().get(path)
    request.user = user
    request.session = client.session
    return request


@exercise_context_required
def _needs_context(request):
    return HttpResponse(f"context={request.exercise_context.pk}")


def test_a_single_context_is_chosen_automatically(client):
    user = PrescriberFactory()
    login(client, user)
    request = _request_for(client, user)

    response = _needs_context(request)

    assert response.content.decode() == f"context={user.practitioner.exercise_contexts.get().pk}"


def test_with_several_contexts_pages_that_need_one_ask_first(client):
    user = PrescriberFactory(contexts=2)
    login(client, user)
    request = _request_for(client, user)

    response = _needs_context(request)

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("practitioners:exercise_context") + "?next=/ordonnances/nouvelle/"
    )


def test_choosing_a_context_keeps_it_for_the_session_and_remembers_it(client):
    user = PrescriberFactory(contexts=2)
    second = user.practitioner.exercise_contexts.order_by("pk").last()
    login(client, user)

    response = client.post(
        reverse("practitioners:exercise_context"),
        {"exercise_context": second.pk, "next": "/patients/"},
    )

    assert response["Location"] == "/patients/"
    assert current_exercise_context(_request_for(client, user)) == second
    user.practitioner.refresh_from_db()
    assert user.practitioner.last_exercise_context == second
    assert AccountEvent.objects.filter(kind=AccountEventKind.EXERCISE_CONTEXT_CHOSEN).count() == 1


def test_the_last_used_context_is_listed_first_but_not_chosen_silently(client):
    user = PrescriberFactory(contexts=2)
    last = user.practitioner.exercise_contexts.order_by("pk").last()
    user.practitioner.last_exercise_context = last
    user.practitioner.save()
    login(client, user)

    response = client.get(reverse("practitioners:exercise_context"))

    assert response.context["contexts"][0] == last
    assert "dernier utilisé" in response.content.decode()
    assert current_exercise_context(_request_for(client, user)) is None


def test_the_top_bar_shows_the_current_context(client):
    user = PrescriberFactory()
    context = user.practitioner.exercise_contexts.get()
    login(client, user)
    body = client.get(reverse("patients:search")).content.decode()
    assert context.name in body
    assert "Lieu d'exercice" in body


def test_another_practitioners_context_cannot_be_chosen(client):
    user = PrescriberFactory(contexts=2)
    foreign = ExerciseContextFactory()
    login(client, user)

    response = client.post(
        reverse("practitioners:exercise_context"), {"exercise_context": foreign.pk}
    )

    assert response.status_code == 400
    assert "pas disponible pour votre compte" in response.content.decode()
    assert current_exercise_context(_request_for(client, user)) is None


def test_an_inactive_context_is_not_used(client):
    user = PrescriberFactory(contexts=2)
    first, second = user.practitioner.exercise_contexts.order_by("pk")
    login(client, user)
    client.post(reverse("practitioners:exercise_context"), {"exercise_context": first.pk})
    first.is_active = False
    first.save()

    # Only `second` is left: it becomes the context without asking.
    assert current_exercise_context(_request_for(client, user)) == second


def test_a_prescriber_without_any_context_is_told_to_contact_the_admin(client):
    user = PrescriberFactory(contexts=0)
    login(client, user)

    response = _needs_context(_request_for(client, user))
    page = client.get(response["Location"])

    assert "Aucun lieu d'exercice actif" in page.content.decode()
