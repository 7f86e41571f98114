"""The accounts and drafts of the several-instances test, made in the test's own database
(``tests/served/test_instances.py`` runs it with the chaos environment).

    python -m tests.served.instances_driver accounts
    python -m tests.served.instances_driver draft

Each command prints one JSON line on stdout.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def accounts() -> dict[str, Any]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from practitioners.models import Practitioner
    from tests.chaos import workload
    from tests.factories import FACTORY_PASSWORD, StaffFactory

    # Linked by the chaos environment's setup (tests.chaos.driver setup).
    prescriber = Practitioner.objects.get(rpps=workload.CLAIRE_MARTIN).user
    staff = [StaffFactory(username=f"accueil{i}") for i in range(2)]
    return {
        "password": FACTORY_PASSWORD,
        "prescriber": prescriber.username,
        "totp_key": TOTPDevice.objects.get(user=prescriber, confirmed=True).key,
        "staff": [user.username for user in staff],
    }


def draft() -> dict[str, Any]:
    from practitioners.models import Practitioner
    from tests.chaos import workload
    from tests.chaos.driver import _patient  # a new patient past the rows of earlier runs

    user = Practitioner.objects.get(rpps=workload.CLAIRE_MARTIN).user
    prescription = workload.ready_to_sign(user, workload.draft(user, patient=_patient()))
    return {"pk": prescription.pk, "version": prescription.version}


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "origami.settings.local")
    import django

    django.setup()
    command = sys.argv[1]
    result = accounts() if command == "accounts" else draft()
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
