"""Reads of the patient record. Every prescriber may search and open every patient (the record
is the host application's); the views restrict patients to prescribers."""

from __future__ import annotations

import datetime
import re

from django.contrib.postgres.lookups import Unaccent
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from .identifiers import compact_nir
from .models import Patient

_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_NIR_LIKE = re.compile(r"^[0-9]{5}(?:[0-9AB][0-9]*)?$")


def _parse_date(token: str) -> datetime.date | None:
    if match := _DATE.match(token):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO_DATE.match(token):
        year, month, day = (int(g) for g in match.groups())
    else:
        return None
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _fold(value: str) -> str:
    """Lower case without accents, like the database side of the comparison."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def patient_search(*, query: str, limit: int = 30) -> QuerySet[Patient] | None:
    """Patients matching every word of the query: a date (JJ/MM/AAAA) matches the birth date,
    a number the start of the NIR (spaces allowed), other words a name (nom d'usage, nom de
    naissance or prénom), ignoring accents and case. None when the query is empty."""
    query = (query or "").strip()
    if not query:
        return None
    patients = Patient.objects.annotate(
        last_folded=Unaccent(Lower("last_name")),
        birth_folded=Unaccent(Lower("birth_name")),
        first_folded=Unaccent(Lower("first_name")),
    )
    # A NIR typed with spaces ("2 95 10 99 126 111 93") is one number.
    nir_candidate = compact_nir(query)
    if len(nir_candidate) >= 5 and _NIR_LIKE.match(nir_candidate):
        return patients.filter(nir__startswith=nir_candidate)[:limit]
    for token in query.split():
        if (day := _parse_date(token)) is not None:
            patients = patients.filter(birth_date=day)
            continue
        word = _fold(token)
        patients = patients.filter(
            Q(last_folded__contains=word)
            | Q(birth_folded__contains=word)
            | Q(first_folded__contains=word)
        )
    return patients.order_by("last_name", "first_name", "birth_date")[:limit]


def patient_get(*, patient_id: int) -> Patient:
    """One patient with the safety data the page shows, or 404."""
    return get_object_or_404(
        Patient.objects.prefetch_related("allergies", "pathologies", "alds", "current_treatments"),
        pk=patient_id,
    )
