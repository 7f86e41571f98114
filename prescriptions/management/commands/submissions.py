"""List and requeue submissions (the outbox of signed prescriptions), for operators.

    python manage.py submissions list [--status held|queued|...]
    python manage.py submissions requeue --id N
    python manage.py submissions requeue --all-held

Prints ids, statuses, attempts, times and reasons: never patient data.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from prescriptions.delivery import submissions as delivery
from prescriptions.errors import PrescriptionError
from prescriptions.models import Submission, SubmissionStatus


class Command(BaseCommand):
    help = "Liste les transmissions à Ordoclic et relance celles qui sont retenues."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="list submissions (held ones by default)")
        listing.add_argument(
            "--status", choices=SubmissionStatus.values, default=SubmissionStatus.HELD
        )
        listing.add_argument("--limit", type=int, default=100)
        requeue = actions.add_parser("requeue", help="send held submissions again")
        target = requeue.add_mutually_exclusive_group(required=True)
        target.add_argument("--id", type=int, dest="submission_id")
        target.add_argument("--all-held", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list(status=options["status"], limit=options["limit"])
        else:
            self._requeue(submission_id=options["submission_id"], all_held=options["all_held"])

    def _list(self, *, status: str, limit: int) -> None:
        submissions = list(
            Submission.objects.filter(status=status)
            .select_related("prescription")
            .order_by("created_at")[:limit]
        )
        if not submissions:
            self.stdout.write(f"no {status} submission")
            return
        now = timezone.now()
        self.stdout.write("id\tprescription\tstatus\tattempts\tage_s\tnext_attempt\treason")
        for s in submissions:
            reason = s.prescription.transmission_error or s.last_error
            next_at = s.next_attempt_at.isoformat() if s.next_attempt_at else "-"
            age = int((now - s.created_at).total_seconds())
            self.stdout.write(
                f"{s.pk}\t{s.prescription_id}\t{s.status}\t{s.attempts}\t{age}\t{next_at}\t"
                f"{reason.replace(chr(10), ' ')[:200]}"
            )

    def _requeue(self, *, submission_id: int | None, all_held: bool) -> None:
        if all_held:
            ids = list(
                Submission.objects.filter(status=SubmissionStatus.HELD).values_list("pk", flat=True)
            )
        else:
            assert submission_id is not None
            ids = [submission_id]
        done = 0
        for pk in ids:
            try:
                delivery.submission_requeue(submission_id=pk, acting_user=None)
            except Submission.DoesNotExist as exc:
                raise CommandError(f"submission {pk} does not exist") from exc
            except PrescriptionError as exc:
                raise CommandError(f"submission {pk}: {exc.message}") from exc
            done += 1
        self.stdout.write(f"requeued {done} submission(s)")
