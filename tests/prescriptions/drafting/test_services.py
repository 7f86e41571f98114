from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from prescriptions.delivery import signing
from prescriptions.drafting import services
from prescriptions.drafting.selectors import prescription_screen
from prescriptions.drafting.services import LineInput
from prescriptions.drugs.catalogue import DrugChoice
from prescriptions.errors import PrescriptionError, StaleVersion
from prescriptions.models import (
    AlertDecision,
    AnalysisOutcome,
    AuditEvent,
    BusinessStatus,
    Prescription,
    Submission,
    TransmissionStatus,
)
from tests.factories import CurrentTreatmentFactory

from ..conftest import (
    catalogue_drug,
    other_prescriber,
    registered_prescription,
    sandbox_fault,
    sandbox_ledger,
)

pytestmark = pytest.mark.django_db

SIMVA = catalogue_drug("69094525")  # SIMVASTATINE BIOGARAN 20 mg, generic
CLARI = catalogue_drug("67997205")  # ZECLAR 500 mg (clarithromycin): CI with simvastatin
LEVOTHYROX = catalogue_drug("68416845")  # a narrow therapeutic margin (MTE) substance


def draft_for(user: Any, patient: Any) -> Prescription:
    return services.prescription_create_draft(
        patient=patient,
        prescriber=user.practitioner,
        acting_user=user,
        exercise_context=user.practitioner.exercise_contexts.first(),
    )


def add(prescription: Prescription, user: Any, drug: DrugChoice, posology: str) -> Any:
    prescription.refresh_from_db()
    return services.prescription_line_add(
        prescription=prescription,
        acting_user=user,
        version=prescription.version,
        drug=drug,
        data=LineInput(posology=posology),
    )


def analysed(prescription: Prescription, user: Any) -> Any:
    prescription.refresh_from_db()
    services.prescription_analyse(prescription=prescription, acting_user=user)
    prescription.refresh_from_db()
    return prescription_screen(prescription=prescription)


def sign(prescription: Prescription, user: Any, capture: Any) -> signing.SignOutcome:
    prescription.refresh_from_db()
    with capture(execute=True):
        return signing.prescription_sign(
            prescription=prescription, acting_user=user, version=prescription.version
        )


def test_ci_alert_must_be_maintained_with_a_justification_before_signing(
    prescriber: Any, patient: Any, ordoclic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir 1 mois")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    screen = analysed(prescription, prescriber)

    [alert_view] = screen.alerts
    assert alert_view.alert.level == "CI"
    assert alert_view.line_labels == [SIMVA.label, CLARI.label]
    assert not screen.can_sign
    with pytest.raises(PrescriptionError, match="attendent votre décision"):
        sign(prescription, prescriber, django_capture_on_commit_callbacks)

    with pytest.raises(PrescriptionError, match="Justifiez le maintien"):
        services.alert_decide(
            alert=alert_view.alert,
            acting_user=prescriber,
            decision="maintain",
            reason="  ",
            version=prescription.version,
        )
    assert not AlertDecision.objects.exists()

    services.alert_decide(
        alert=alert_view.alert,
        acting_user=prescriber,
        decision="maintain",
        reason="Statine suspendue pendant l'antibiothérapie",
        version=prescription.version,
    )
    assert prescription_screen(prescription=prescription).can_sign

    sign(prescription, prescriber, django_capture_on_commit_callbacks)
    prescription.refresh_from_db()
    assert prescription.status == BusinessStatus.SIGNED
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    assert prescription.number
    assert prescription.software_version
    decision = AlertDecision.objects.get()
    assert (decision.level, decision.decision, decision.version) == (
        "CI",
        "maintain",
        prescription.version,
    )
    actions = list(
        AuditEvent.objects.filter(prescription=prescription).values_list("action", flat=True)
    )
    assert "alert_decided" in actions
    assert "signed" in actions
    assert "registered" in actions


def test_removing_a_drug_clears_the_alert_and_allows_signing(
    prescriber: Any, patient: Any, ordoclic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir 1 mois")
    clari = add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    assert analysed(prescription, prescriber).alerts

    prescription.refresh_from_db()
    services.prescription_line_remove(
        line=clari, acting_user=prescriber, version=prescription.version
    )
    screen = analysed(prescription, prescriber)
    assert screen.alerts == []
    assert screen.can_sign
    sign(prescription, prescriber, django_capture_on_commit_callbacks)
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED


def test_unavailable_analysis_is_shown_as_not_done_and_must_be_acknowledged(
    prescriber: Any, patient: Any, ordoclic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    sandbox_fault(ordoclic, "down")
    screen = analysed(prescription, prescriber)
    assert screen.run.outcome == AnalysisOutcome.UNAVAILABLE
    assert screen.analysis_failed
    assert any("signez sans analyse" in b for b in screen.blockers)

    services.prescription_analysis_waive(
        prescription=prescription, acting_user=prescriber, version=prescription.version
    )
    prescription.refresh_from_db()
    assert prescription_screen(prescription=prescription).can_sign
    sign(prescription, prescriber, django_capture_on_commit_callbacks)
    prescription.refresh_from_db()
    # Ordoclic is down: signed and kept in the outbox, never lost.
    assert prescription.status == BusinessStatus.SIGNED
    assert prescription.transmission_status == TransmissionStatus.QUEUED
    submission = Submission.objects.get(prescription=prescription)
    assert submission.status == "queued"
    assert submission.attempts == 1
    assert submission.next_attempt_at is not None


def test_a_stale_version_is_refused_and_nothing_is_overwritten(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    line = add(prescription, prescriber, SIMVA, "1 cp le soir")
    stale = prescription.version - 1
    with pytest.raises(StaleVersion, match="modifiée entre-temps"):
        services.prescription_line_update(
            line=line,
            acting_user=prescriber,
            version=stale,
            data=LineInput(posology="2 cp le soir"),
        )
    line.refresh_from_db()
    assert line.posology_text == "1 comprimé le soir"


@pytest.mark.parametrize(
    ("posology", "message"),
    [
        ("40 cp matin", "valeur impossible"),
        ("1 cp pendant 0 jours", "au moins un jour"),
        ("", "Indiquez une posologie"),
    ],
)
def test_bad_posology_adds_no_line(
    prescriber: Any, patient: Any, posology: str, message: str
) -> None:
    prescription = draft_for(prescriber, patient)
    with pytest.raises(PrescriptionError, match=message):
        add(prescription, prescriber, SIMVA, posology)
    assert prescription.lines.count() == 0


def test_non_substitution_reasons_follow_the_rules(prescriber: Any, patient: Any) -> None:
    prescription = draft_for(prescriber, patient)

    def add_ns(drug: DrugChoice, reason: str) -> Any:
        prescription.refresh_from_db()
        return services.prescription_line_add(
            prescription=prescription,
            acting_user=prescriber,
            version=prescription.version,
            drug=drug,
            data=LineInput(
                posology="1 cp le matin", non_substitutable=True, non_substitutable_reason=reason
            ),
        )

    with pytest.raises(PrescriptionError, match="MTE ne vaut que"):
        add_ns(SIMVA, "MTE")
    with pytest.raises(PrescriptionError, match="moins de 6 ans"):
        add_ns(SIMVA, "EFG")
    assert add_ns(LEVOTHYROX, "MTE").non_substitutable_reason == "MTE"
    assert add_ns(SIMVA, "CIF").non_substitutable


def test_another_prescriber_cannot_act_on_the_draft(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    other = other_prescriber()
    with pytest.raises(PermissionDenied):
        add(prescription, other, SIMVA, "1 cp le soir")
    with pytest.raises(PermissionDenied):
        services.prescription_analyse(prescription=prescription, acting_user=other)


def test_signing_twice_gives_one_prescription_and_one_registration(
    prescriber: Any, patient: Any, ordoclic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    analysed(prescription, prescriber)
    version = prescription.version
    first = sign(prescription, prescriber, django_capture_on_commit_callbacks)
    # the back button or a second tab sends the same form again
    again = signing.prescription_sign(
        prescription=Prescription.objects.get(pk=prescription.pk),
        acting_user=prescriber,
        version=version,
    )
    assert not first.already_signed
    assert again.already_signed
    assert Submission.objects.filter(prescription=prescription).count() == 1
    assert sandbox_ledger(ordoclic) == {str(prescription.external_id): (1, 1)}


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sign_requests_register_once(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    analysed(prescription, prescriber)
    version = prescription.version
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def sign_in_thread() -> None:
        try:
            barrier.wait()
            outcomes.append(
                signing.prescription_sign(
                    prescription=Prescription.objects.get(pk=prescription.pk),
                    acting_user=prescriber,
                    version=version,
                )
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=sign_in_thread) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a signing still runs after 60 s"

    assert len(outcomes) == 2
    assert Submission.objects.filter(prescription=prescription).count() == 1
    prescription.refresh_from_db()
    assert prescription.transmission_status == TransmissionStatus.REGISTERED
    # Ordoclic received one creation request and registered one prescription, in all.
    assert sandbox_ledger(ordoclic) == {str(prescription.external_id): (1, 1)}


def test_decisions_and_audit_events_cannot_be_changed_or_deleted(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    [view] = analysed(prescription, prescriber).alerts
    decision = services.alert_decide(
        alert=view.alert,
        acting_user=prescriber,
        decision="maintain",
        reason="Bénéfice attendu supérieur",
        version=prescription.version,
    )
    event = AuditEvent.objects.filter(prescription=prescription).first()
    assert event is not None

    attempts = [
        lambda: AlertDecision.objects.filter(pk=decision.pk).update(reason="autre"),
        lambda: AlertDecision.objects.filter(pk=decision.pk).delete(),
        lambda: AuditEvent.objects.filter(pk=event.pk).update(action="rien"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ]
    sql = [
        ("UPDATE prescriptions_alertdecision SET reason = 'x' WHERE id = %s", decision.pk),
        ("DELETE FROM prescriptions_alertdecision WHERE id = %s", decision.pk),
        ("UPDATE prescriptions_auditevent SET action = 'x' WHERE id = %s", event.pk),
        ("DELETE FROM prescriptions_auditevent WHERE id = %s", event.pk),
    ]
    for attempt in attempts:
        with pytest.raises(Exception, match="append-only"), transaction.atomic():
            attempt()
    for statement, pk in sql:
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [pk])
    decision.refresh_from_db()
    assert decision.reason == "Bénéfice attendu supérieur"
    assert AuditEvent.objects.filter(pk=event.pk, action=event.action).exists()


def test_signing_a_stale_version_sends_nothing(
    prescriber: Any, patient: Any, ordoclic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    analysed(prescription, prescriber)
    seen_version = prescription.version
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")  # someone else, meanwhile
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(StaleVersion, match="modifiée entre-temps"),
    ):
        signing.prescription_sign(
            prescription=Prescription.objects.get(pk=prescription.pk),
            acting_user=prescriber,
            version=seen_version,
        )
    prescription.refresh_from_db()
    assert prescription.is_draft
    assert not Submission.objects.exists()
    assert sandbox_ledger(ordoclic) == {}


def test_submission_attempts_cannot_be_changed_or_deleted(
    prescriber: Any, patient: Any, ordoclic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from prescriptions.models import SubmissionAttempt

    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir")
    analysed(prescription, prescriber)
    sign(prescription, prescriber, django_capture_on_commit_callbacks)
    attempt = SubmissionAttempt.objects.get(submission__prescription=prescription)
    for statement in (
        "UPDATE prescriptions_submissionattempt SET error = 'x' WHERE id = %s",
        "DELETE FROM prescriptions_submissionattempt WHERE id = %s",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [attempt.pk])
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        SubmissionAttempt.objects.filter(pk=attempt.pk).delete()
    assert SubmissionAttempt.objects.filter(pk=attempt.pk, error=attempt.error).exists()


# --- treatments recorded in the host patient record ------------------------------------------

LORAMYC = catalogue_drug("69980852")  # miconazole: contraindicated with every AVK
COUMADINE = ("64631925", "COUMADINE 2 mg, comprimé sécable", "warfarine", "comprimé sécable")


def test_a_recorded_warfarin_with_a_prescribed_miconazole_is_a_contraindication_naming_it(
    prescriber: Any, patient: Any, ordoclic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    warfarin = CurrentTreatmentFactory(patient=patient)  # COUMADINE 2 mg, CIS in the record
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, LORAMYC, "1 cp le matin 7j")
    screen = analysed(prescription, prescriber)

    [view] = screen.alerts
    assert view.alert.level == "CI"
    assert f"record-{warfarin.pk}" in view.alert.line_refs
    # the prescribed line first, "Modifier" goes to it
    assert view.line_labels == [
        LORAMYC.label,
        "COUMADINE 2 mg, comprimé sécable (traitement en cours)",
    ]
    [loramyc_line] = prescription.lines.all()
    assert view.focus_ref == loramyc_line.line_ref
    assert screen.recorded_treatments == [warfarin]
    assert screen.uncoded_treatments == []
    with pytest.raises(PrescriptionError, match="attendent votre décision"):
        sign(prescription, prescriber, django_capture_on_commit_callbacks)
    assert sandbox_ledger(ordoclic) == {}


def test_a_treatment_recorded_after_the_analysis_is_analysed_before_signing(
    prescriber: Any, patient: Any, ordoclic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, LORAMYC, "1 cp le matin 7j")
    screen = analysed(prescription, prescriber)
    assert screen.analysis_done
    assert screen.alerts == []
    first_run = screen.run
    # Nothing changed: the analysis stands, Ordoclic is not asked again.
    assert services.prescription_analyse(prescription=prescription, acting_user=prescriber) == (
        first_run
    )

    # The host record gains warfarin while the prescription is open, same draft version.
    warfarin = CurrentTreatmentFactory(patient=patient)
    prescription.refresh_from_db()
    screen = prescription_screen(prescription=prescription)
    assert screen.analysis_stale
    assert screen.run is None  # the screen analyses again on load
    with pytest.raises(PrescriptionError, match="Le dossier du patient a changé"):
        sign(prescription, prescriber, django_capture_on_commit_callbacks)
    assert sandbox_ledger(ordoclic) == {}

    screen = analysed(prescription, prescriber)
    assert not screen.analysis_stale
    [view] = screen.alerts
    assert view.alert.level == "CI"
    assert f"record-{warfarin.pk}" in view.alert.line_refs


def test_an_allergy_recorded_after_the_analysis_makes_it_stale(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, LORAMYC, "1 cp le matin 7j")
    assert analysed(prescription, prescriber).analysis_done
    patient.allergies.create(substance="miconazole")
    prescription.refresh_from_db()
    assert prescription_screen(prescription=prescription).analysis_stale


ASPEGIC = catalogue_drug("63936571")  # aspirin 1000 mg, analgesic doses


@pytest.mark.parametrize(
    ("posology", "level"),
    [("10 cp 1 fois par semaine", "CI"), ("", "PE")],
    ids=["25-mg-a-week", "no-posology-one-a-day"],
)
def test_a_recorded_methotrexate_is_judged_at_the_dose_its_posology_gives(
    prescriber: Any, patient: Any, ordoclic: Any, posology: str, level: str
) -> None:
    """Methotrexate with analgesic aspirin: contraindicated above 20 mg a week. The record's
    posology gives 25 mg a week; without one, one 2.5 mg tablet a day is 17.5 mg a week."""
    CurrentTreatmentFactory(
        patient=patient, label="NOVATREX 2,5 mg, comprimé", cis="67853564", posology=posology
    )
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, ASPEGIC, "1 sachet 3 fois par jour 5j")
    screen = analysed(prescription, prescriber)

    [view] = [v for v in screen.alerts if "méthotrexate" in v.alert.title.lower()]
    assert view.alert.level == level


def test_an_uncoded_recorded_treatment_is_reported_as_not_analysed(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    uncoded = CurrentTreatmentFactory(patient=patient, label="SINTROM 4 mg", cis="")
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, LORAMYC, "1 cp le matin 7j")
    screen = analysed(prescription, prescriber)

    assert screen.analysis_done
    assert screen.alerts == []  # nothing could be checked against it...
    assert screen.recorded_treatments == []
    assert screen.uncoded_treatments == [uncoded]  # ...and the screen says so


def test_a_recorded_treatment_also_prescribed_and_registered_is_analysed_once(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    CurrentTreatmentFactory(patient=patient)
    earlier = registered_prescription(user=prescriber, patient=patient, drugs=(COUMADINE,))
    [registered_line] = earlier.lines.all()
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, LORAMYC, "1 cp le matin 7j")
    screen = analysed(prescription, prescriber)

    # one contraindication, on the registered line (it carries the real posology)
    [view] = screen.alerts
    assert view.alert.level == "CI"
    assert f"t{registered_line.pk}" in view.alert.line_refs
    assert screen.recorded_treatments == []


def test_a_decision_stops_covering_an_alert_whose_level_rose_on_reanalysis(
    prescriber: Any,
    patient: Any,
    ordoclic: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Maintained as a precaution (PE), the same alert (same id) comes back as a
    contraindication (CI) when the draft is analysed again: signing is blocked again until the
    prescriber decides on the contraindication, with its justification."""
    level = {"now": "PE"}
    real = ordoclic.sandbox.app._analyse

    def analyse(request: Any) -> dict[str, Any]:
        result = dict(real(request))
        result["alerts"] = [{**a, "level": level["now"]} for a in result["alerts"]]
        return result

    monkeypatch.setattr(ordoclic.sandbox.app, "_analyse", analyse)
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir 1 mois")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    [view] = analysed(prescription, prescriber).alerts
    assert view.alert.level == "PE"
    services.alert_decide(
        alert=view.alert,
        acting_user=prescriber,
        decision="maintain",
        reason="",
        version=prescription.version,
    )
    assert prescription_screen(prescription=prescription).can_sign

    level["now"] = "CI"  # Ordoclic's thesaurus was updated
    add(prescription, prescriber, LEVOTHYROX, "1 cp le matin")  # analysed again
    screen = analysed(prescription, prescriber)
    [view] = screen.alerts
    assert (view.alert.level, view.alert.ordoclic_alert_id) == (
        "CI",
        AlertDecision.objects.get().ordoclic_alert_id,
    )
    assert not screen.can_sign
    with pytest.raises(PrescriptionError, match="attendent votre décision"):
        sign(prescription, prescriber, django_capture_on_commit_callbacks)
    prescription.refresh_from_db()
    assert prescription.status == BusinessStatus.DRAFT
    assert not Submission.objects.filter(prescription=prescription).exists()


def test_a_prescriber_who_may_only_view_a_shared_prescription_cannot_change_decide_or_sign(
    prescriber: Any, patient: Any, ordoclic: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """The services refuse, whatever the screens show: a colleague the prescription is shared
    with for reading adds, edits or removes no line, changes no option, runs no analysis,
    takes no decision on an alert and does not sign."""
    from guardian.shortcuts import assign_perm

    from prescriptions.access import prescription_get_for

    prescription = draft_for(prescriber, patient)
    line = add(prescription, prescriber, SIMVA, "1 cp le soir 1 mois")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    [view] = analysed(prescription, prescriber).alerts
    written = [(x.drug_code, x.posology_text) for x in prescription.lines.order_by("position")]
    reader = other_prescriber()
    assign_perm("prescriptions.view_prescription", reader, prescription)
    prescription.refresh_from_db()
    version = prescription.version
    assert prescription_get_for(user=reader, pk=prescription.pk) == prescription  # shared

    attempts = {
        "add a line": lambda: add(prescription, reader, LEVOTHYROX, "1 cp le matin"),
        "edit a line": lambda: services.prescription_line_update(
            line=line, acting_user=reader, version=version, data=LineInput(posology="2 cp le soir")
        ),
        "remove a line": lambda: services.prescription_line_remove(
            line=line, acting_user=reader, version=version
        ),
        "change the options": lambda: services.prescription_options_update(
            prescription=prescription,
            acting_user=reader,
            version=version,
            exercise_context=None,
            dispensing_follow_up_objection=True,
            share_with_dmp=False,
        ),
        "analyse": lambda: services.prescription_analyse(
            prescription=prescription, acting_user=reader
        ),
        "decide on the alert": lambda: services.alert_decide(
            alert=view.alert,
            acting_user=reader,
            decision="maintain",
            reason="Bénéfice attendu supérieur au risque",
            version=version,
        ),
        "sign without analysis": lambda: services.prescription_analysis_waive(
            prescription=prescription, acting_user=reader, version=version
        ),
        "sign": lambda: signing.prescription_sign(
            prescription=prescription, acting_user=reader, version=version
        ),
    }
    allowed = []
    for what, attempt in attempts.items():
        try:
            with transaction.atomic():
                attempt()
        except PermissionDenied:
            continue
        except PrescriptionError:
            pass  # got past the permission check (then refused for another reason)
        allowed.append(what)
    assert allowed == []
    prescription.refresh_from_db()
    assert (prescription.status, prescription.version) == (BusinessStatus.DRAFT, version)
    lines = [(x.drug_code, x.posology_text) for x in prescription.lines.order_by("position")]
    assert lines == written
    assert not AlertDecision.objects.exists()
    assert not Submission.objects.exists()


def test_an_unjustified_maintain_on_a_ci_is_refused_by_the_service_with_the_screen_message(
    prescriber: Any, patient: Any, ordoclic: Any
) -> None:
    """The prescriber sees why, on the field to fill; the database's own refusal (a 500 for
    the user) is never what stops it."""
    prescription = draft_for(prescriber, patient)
    add(prescription, prescriber, SIMVA, "1 cp le soir 1 mois")
    add(prescription, prescriber, CLARI, "1 cp matin et soir 7j")
    [view] = analysed(prescription, prescriber).alerts
    assert view.alert.level == "CI"
    prescription.refresh_from_db()
    with (
        CaptureQueriesContext(connection) as queries,
        pytest.raises(PrescriptionError) as refused,
    ):
        services.alert_decide(
            alert=view.alert,
            acting_user=prescriber,
            decision="maintain",
            reason="   ",
            version=prescription.version,
        )
    assert str(refused.value) == (
        "Justifiez le maintien : c'est obligatoire pour une alerte de niveau CI."
    )
    assert refused.value.field == "reason"
    # Refused before anything was written: no insert the database had to turn down.
    assert not [q for q in queries.captured_queries if "INSERT" in q["sql"]]
    assert not AlertDecision.objects.exists()
