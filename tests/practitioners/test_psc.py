"""A Pro Santé Connect identity is tied to the practitioner with its RPPS, never to anyone else."""

import pytest

from practitioners.psc import psc_rpps, psc_user_for_claims
from tests.factories import PrescriberFactory

pytestmark = pytest.mark.django_db

RPPS = "10100001238"


def test_the_rpps_is_read_from_the_national_identifier():
    assert psc_rpps({"SubjectNameID": "8" + RPPS}) == RPPS
    assert psc_rpps({"SubjectNameID": "0" + "751234567"}) is None  # ADELI: no RPPS
    assert psc_rpps({"SubjectNameID": "8" + "10100001239"}) is None  # wrong key
    assert psc_rpps({"SubjectNameID": "8" + RPPS + "0"}) is None
    assert psc_rpps({"sub": "8" + RPPS}) is None


def test_a_psc_login_finds_the_practitioner_by_rpps_only_when_active():
    user = PrescriberFactory(practitioner_record__rpps=RPPS)
    assert psc_user_for_claims({"SubjectNameID": "8" + RPPS}) == user
    user.practitioner.is_active = False
    user.practitioner.save()
    assert psc_user_for_claims({"SubjectNameID": "8" + RPPS}) is None
    assert psc_user_for_claims({"SubjectNameID": "810100004562"}) is None
