"""`manage.py check --deploy` is clean under the production settings, given the environment a
production deployment sets (README, Settings); HSTS preload can be turned off."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "origami.settings.production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "origami.example",
    "POSTGRES_USER": "origami_app",
    "SENTRY_DSN": "",
}


def _inherited() -> dict[str, str]:
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process (Playwright's event loop);
    # a production process never has it.
    return {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=Path(settings.BASE_DIR),
        env={**_inherited(), **PRODUCTION_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_the_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_hsts_preload_is_sent_and_configurable():
    script = "from django.conf import settings; print(settings.SECURE_HSTS_PRELOAD)"
    assert _manage("shell", "-c", script).stdout.strip().splitlines()[-1] == "True"
    off = _manage("shell", "-c", script, DJANGO_SECURE_HSTS_PRELOAD="false")
    assert off.stdout.strip().splitlines()[-1] == "False"


def test_production_refuses_to_run_the_app_as_the_superuser():
    result = _manage("check", POSTGRES_USER="postgres")
    assert result.returncode != 0
    assert "POSTGRES_USER" in result.stderr
