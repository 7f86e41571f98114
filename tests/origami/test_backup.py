"""Backup and restore, the whole round trip on real PostgreSQL and the served sandbox: the dump
restores into a fresh database that matches its manifest, and after the restore the queued
prescriptions resume without any being registered twice, even one registered after the dump."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from origami import backup
from origami.ordoclic import reset_client
from prescriptions.delivery import signing, submissions
from prescriptions.delivery.submissions import SUBMISSIONS
from prescriptions.models import Prescription, Submission
from tests.chaos import workload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.served]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def ordoclic_served(served_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # No broker in this test: the attempts are made by hand, as a worker would.
    monkeypatch.setattr(SUBMISSIONS, "enqueue", lambda *, pk, at: True)
    with override_settings(
        ORDOCLIC_BASE_URL=served_sandbox.base_url,
        ORDOCLIC_PARTNER_ID=served_sandbox.partner_id,
        ORDOCLIC_PRIVATE_KEY_PATH=str(served_sandbox.private_key_path),
    ):
        reset_client()
        yield served_sandbox
    reset_client()


@pytest.fixture
def restored_name() -> Iterator[str]:
    name = f"{settings.DATABASES['default']['NAME']}_restored"
    backup.backup_drop(database=name)
    yield name
    backup.backup_drop(database=name)


def _env(database: str, sandbox: Any) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "origami.settings.test",
            "POSTGRES_DB": database,
            "ORDOCLIC_BASE_URL": sandbox.base_url,
            "ORDOCLIC_PARTNER_ID": sandbox.partner_id,
            "ORDOCLIC_PRIVATE_KEY_PATH": str(sandbox.private_key_path),
        }
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _ledger(sandbox: Any) -> dict[str, dict[str, Any]]:
    with sandbox.control() as control:
        body = control.get("/_sandbox/ledger", params={"per_page": 500}).json()
    return {item["externalId"]: item for item in body["items"]}


def _signed(user: Any, *, attempt: bool, monkeypatch: pytest.MonkeyPatch) -> Prescription:
    if not attempt:  # the signing request died before its attempt: queued, never tried
        monkeypatch.setattr(signing, "submission_after_sign", lambda **kwargs: None)
    prescription = workload.ready_to_sign(user, workload.draft(user))
    workload.sign(user, prescription)
    monkeypatch.undo()
    monkeypatch.setattr(SUBMISSIONS, "enqueue", lambda *, pk, at: True)
    prescription.refresh_from_db()
    return prescription


def test_round_trip_resumes_the_queue_and_sends_nothing_twice(
    ordoclic_served: Any, restored_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    registered = _signed(user, attempt=True, monkeypatch=monkeypatch)
    sent_after_dump = _signed(user, attempt=False, monkeypatch=monkeypatch)
    still_queued = _signed(user, attempt=False, monkeypatch=monkeypatch)
    assert registered.number
    assert sent_after_dump.submission.attempts == still_queued.submission.attempts == 0

    # The nightly backup: dump, restore into a scratch database, verify, drop it.
    source = settings.DATABASES["default"]["NAME"]
    dump = tmp_path / "origami.dump"
    env = _env(source, ordoclic_served)
    out = _run(["scripts/backup.sh", str(dump)], env)
    assert "Restauration conforme" in out
    manifest = json.loads(Path(f"{dump}{backup.MANIFEST_SUFFIX}").read_text())
    assert manifest["database"] == source
    assert manifest["tables"]["prescriptions_submission"] == 3
    assert manifest["registered_prescriptions"] == 1

    # After the dump, the source lives on: a worker registers one more prescription.
    Submission.objects.filter(pk=sent_after_dump.submission.pk).update(
        next_attempt_at=timezone.now()
    )
    submissions.submission_send(submission_id=sent_after_dump.submission.pk)
    sent_after_dump.refresh_from_db()
    assert sent_after_dump.number

    # Disaster: restore the dump into a fresh database and check it.
    out = _run(["scripts/backup.sh", "restore", str(dump), restored_name], env)
    assert "Restauration conforme" in out
    with pytest.raises(AssertionError, match="existe déjà"):  # never over an existing database
        _run(["scripts/backup.sh", "restore", str(dump), restored_name], env)

    # On the restored database: the runbook's step before the workers, then the workers' attempts.
    restored_env = _env(restored_name, ordoclic_served)
    out = _run(
        [sys.executable, "manage.py", "backup", "after-restore", "--dump", dump.name], restored_env
    )
    assert "2 envoi(s) en attente" in out
    ids = [sent_after_dump.submission.pk, still_queued.submission.pk]
    _run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); "
            "from prescriptions.delivery.submissions import submission_send; "
            f"[submission_send(submission_id=i) for i in {ids!r}]",
        ],
        restored_env,
    )

    with psycopg.connect(dbname=restored_name, **_server()) as conn:
        rows = dict(
            conn.execute(
                "SELECT s.id, p.number FROM prescriptions_submission s "
                "JOIN prescriptions_prescription p ON p.id = s.prescription_id "
                "WHERE s.status = 'registered'"
            ).fetchall()
        )
        outcome = conn.execute(
            "SELECT outcome FROM prescriptions_submissionattempt WHERE submission_id = %s",
            [sent_after_dump.submission.pk],
        ).fetchall()
        restored_events = conn.execute(
            "SELECT count(*) FROM prescriptions_auditevent WHERE action = 'submission_restored'"
        ).fetchone()
    # The one registered after the dump was found by its external id, not sent again: the
    # restored record has the number Ordoclic gave it.
    assert rows[sent_after_dump.submission.pk] == sent_after_dump.number
    assert outcome == [("found",)]
    assert rows[still_queued.submission.pk]  # the queue resumed
    assert len(rows) == 3
    assert restored_events == (2,)
    ledger = _ledger(ordoclic_served)
    for prescription in (registered, sent_after_dump, still_queued):
        entry = ledger[str(prescription.external_id)]
        assert entry["registered"] == 1, entry
        assert entry["creationRequests"] == 1, entry


def _server() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    return {"user": db["USER"], "host": db["HOST"], "port": db["PORT"], "password": db["PASSWORD"]}


def test_verification_catches_a_restore_that_is_not_the_source(
    ordoclic_served: Any, restored_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = workload.prescriber_linked(workload.CLAIRE_MARTIN)
    _signed(user, attempt=True, monkeypatch=monkeypatch)
    dump = tmp_path / "origami.dump"
    manifest = backup.backup_dump(output=dump)
    assert backup.backup_restore(dump=dump, database=restored_name).ok

    with psycopg.connect(dbname=restored_name, autocommit=True, **_server()) as conn:
        conn.execute(
            "ALTER TABLE prescriptions_submissionattempt "
            "DISABLE TRIGGER prescriptions_submissionattempt_append_only"
        )
        conn.execute(
            "DROP TRIGGER prescriptions_auditevent_append_only ON prescriptions_auditevent"
        )
        # The database refuses a registered prescription without its number: a restore that
        # lost the constraint (a hand-made schema) is what could let one through.
        conn.execute(
            "ALTER TABLE prescriptions_prescription "
            "DROP CONSTRAINT prescription_registered_has_number"
        )
        conn.execute("UPDATE prescriptions_prescription SET number = NULL")
        conn.execute("DELETE FROM prescriptions_submissionattempt")
    problems = backup.backup_verify(manifest=manifest, database=restored_name).problems

    assert "prescriptions_submissionattempt : 0 lignes au lieu de 1" in problems
    assert "déclencheur désactivé : prescriptions_submissionattempt_append_only" in problems
    assert any("prescriptions_auditevent_append_only" in p for p in problems)
    assert "prescriptions_auditevent accepte une modification (append-only perdu)" in problems
    assert "1 ordonnance(s) enregistrée(s) sans numéro" in problems
    assert "les numéros des ordonnances enregistrées diffèrent de la source" in problems


def test_a_dump_that_does_not_match_its_manifest_is_refused(tmp_path: Path) -> None:
    dump = tmp_path / "origami.dump"
    backup.backup_dump(output=dump)
    with dump.open("ab") as stream:
        stream.write(b"tampered")
    with pytest.raises(backup.BackupError, match="SHA-256"):
        backup.backup_restore(dump=dump, database="never_created_here")
