"""The production web server's access log never records a query string."""

from __future__ import annotations

import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from gunicorn.config import Config
from gunicorn.glogging import Logger

CONFIG = Path(settings.BASE_DIR) / "origami" / "gunicorn.py"


def _access_line(environ: dict[str, str]) -> str:
    options = runpy.run_path(str(CONFIG))
    config = Config()
    config.set("access_log_format", options["access_log_format"])
    logger = Logger(config)
    response = SimpleNamespace(status="200 OK", sent=512, headers=[("X-Request-ID", "abc123")])
    request = SimpleNamespace(headers=[])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=12))
    return config.access_log_format % logger.atoms_wrapper_class(atoms)


def test_the_access_log_keeps_the_path_but_never_the_query_string():
    line = _access_line(
        {
            "REQUEST_METHOD": "GET",
            "RAW_URI": "/patients/?q=DUPONT+2+95+10+99+126+111+93",
            "PATH_INFO": "/patients/",
            "QUERY_STRING": "q=DUPONT+2+95+10+99+126+111+93",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "10.0.0.7",
            "HTTP_REFERER": "https://origami.example/patients/?q=DUPONT",
        }
    )
    assert '"GET /patients/ HTTP/1.1" 200' in line
    assert "request_id=abc123" in line
    assert "DUPONT" not in line
    assert "q=" not in line


def test_the_image_and_compose_start_gunicorn_with_this_file():
    base = Path(settings.BASE_DIR)
    assert "-c origami/gunicorn.py" in (base / "docker-compose.yml").read_text()
    assert '"-c", "origami/gunicorn.py"' in (base / "Dockerfile").read_text()
