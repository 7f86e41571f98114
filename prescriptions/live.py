"""How an open page follows a prescription's status without a reload: it asks again after a
delay that grows (a status usually moves in the first seconds, sometimes after minutes), and
stops once nothing more can happen without the prescriber, or after about an hour."""

from __future__ import annotations

from collections.abc import Iterable

from .models import BusinessStatus, DispensingStatus, Prescription, TransmissionStatus

# Seconds before the next question, by number of questions already asked (the last repeats).
POLL_DELAYS = (2, 3, 5, 8, 13, 20, 30, 45, 60)
MAX_POLLS = 70  # ~ one hour

MOVING = (TransmissionStatus.QUEUED, TransmissionStatus.SENDING, TransmissionStatus.HELD)


def poll_delay(polls: int) -> int | None:
    """Seconds to wait before asking again, or None: stop asking."""
    if polls >= MAX_POLLS:
        return None
    return POLL_DELAYS[min(polls, len(POLL_DELAYS) - 1)]


def polls_asked(raw: str) -> int:
    """The number of questions the page already asked (from its own query string)."""
    return int(raw) if raw.isdigit() else 0


def status_moving(prescription: Prescription) -> bool:
    """Signed and on its way to Ordoclic (queued, sending, held): a list follows it."""
    return (
        prescription.status == BusinessStatus.SIGNED and prescription.transmission_status in MOVING
    )


def status_settled(prescription: Prescription) -> bool:
    """Nothing more happens to it without the prescriber: cancelled or replaced, refused by
    Ordoclic, or fully dispensed. A registered one still follows dispensing and cancellation."""
    return (
        prescription.status in (BusinessStatus.CANCELLED, BusinessStatus.REPLACED)
        or prescription.transmission_status == TransmissionStatus.REJECTED
        or (
            prescription.transmission_status == TransmissionStatus.REGISTERED
            and prescription.dispensing_status == DispensingStatus.FULL
        )
    )


def status_key(prescription: Prescription) -> str:
    """What the page shows of the status, to tell whether it changed."""
    consolidated = prescription.consolidated_at.timestamp() if prescription.consolidated_at else 0
    return "-".join(
        [
            prescription.status,
            prescription.transmission_status,
            prescription.dispensing_status,
            str(int(consolidated)),
            str(prescription.updated_at.timestamp()),
        ]
    )


def any_moving(prescriptions: Iterable[Prescription]) -> bool:
    return any(status_moving(p) for p in prescriptions)
