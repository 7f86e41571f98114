"""The command line: exit codes, JSON on stdout, plain words on stderr."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ordoclic_client.cli import main

from .conftest import BASE_URL, PARTNER_ID, RPPS, auth_answer, pem

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def key_file(tmp_path: Path, partner_key: rsa.RSAPrivateKey) -> Path:
    path = tmp_path / "partner.pem"
    path.write_bytes(pem(partner_key, serialization.PrivateFormat.PKCS8))
    return path


def options(key_file: Path) -> list[str]:
    return ["--base-url", BASE_URL, "--partner-id", PARTNER_ID, "--private-key", str(key_file)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_drugs_search_prints_the_page(
    api: respx.MockRouter, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = {"page": 1, "per_page": 20, "page_count": 1, "total_count": 1}
    item = {"cis": "60234100", "label": "DOLIPRANE 1000 mg, comprimé"}
    api.get("/drugbase/v1/drugs").mock(
        return_value=httpx.Response(200, json=page | {"items": [item]})
    )

    code = main([*options(key_file), "--rpps", RPPS, "drugs", "search", "doliprane"])

    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["items"][0]["label"] == "DOLIPRANE 1000 mg, comprimé"


def test_auth_shows_the_identity_not_the_token_unless_asked(
    api: respx.MockRouter, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = auth_answer()
    api["auth"].mock(return_value=httpx.Response(200, json=answer))

    assert main([*options(key_file), "--rpps", RPPS, "auth"]) == 0
    hidden = json.loads(capsys.readouterr().out)
    assert main([*options(key_file), "--rpps", RPPS, "auth", "--show-token"]) == 0
    shown = json.loads(capsys.readouterr().out)

    assert hidden["identity"]["professional"]["lastName"] == "MARTIN"
    assert "token" not in hidden
    assert hidden["tokenExpiresAt"].endswith("+00:00")
    assert shown["token"] == answer["token"]


def test_a_refusal_exits_1_with_the_reason(
    api: respx.MockRouter, key_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api.get("/v1/prescriptions/nope").mock(
        return_value=httpx.Response(404, json={"errors": [{"message": "Ordonnance inconnue"}]})
    )

    code = main([*options(key_file), "--rpps", RPPS, "prescription", "get", "nope"])

    out = capsys.readouterr()
    assert code == 1
    assert json.loads(out.out)["rejected"]["status"] == 404
    assert "refused the request (HTTP 404): Ordonnance inconnue" in out.err


def test_an_unreadable_analysis_file_exits_64_naming_the_problem(
    key_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"patient": {}, "lines": []}))

    code = main([*options(key_file), "--rpps", RPPS, "analyse", str(request)])

    assert code == 64
    assert "patient.birthDate" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--rpps", RPPS, "auth"], "no partner id"),
        (["--partner-id", PARTNER_ID, "--rpps", RPPS, "auth"], "no private key"),
        (
            [
                "--partner-id",
                PARTNER_ID,
                "--private-key",
                "/nonexistent.pem",
                "--rpps",
                RPPS,
                "auth",
            ],
            "cannot read the private key",
        ),
        (["--partner-id", PARTNER_ID, "--private-key", "K", "auth"], "no professional"),
    ],
)
def test_missing_configuration_exits_64(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ORDOCLIC_PARTNER_ID", "ORDOCLIC_PRIVATE_KEY_PATH", "ORDOCLIC_RPPS"):
        monkeypatch.delenv(name, raising=False)

    assert main(argv) == 64
    assert message in capsys.readouterr().err


def test_options_come_from_the_environment_and_a_closed_port_exits_2(key_file: Path) -> None:
    env = os.environ | {
        "ORDOCLIC_BASE_URL": f"http://127.0.0.1:{free_port()}",
        "ORDOCLIC_PARTNER_ID": PARTNER_ID,
        "ORDOCLIC_PRIVATE_KEY_PATH": str(key_file),
        "ORDOCLIC_RPPS": RPPS,
    }

    done = subprocess.run(
        [sys.executable, "-m", "ordoclic_client", "drugs", "search", "doli"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert json.loads(done.stdout)["unavailable"]["sent"] is False
    assert done.stderr == "Ordoclic is unavailable: connection refused.\n"


# --- against the served sandbox, as the README shows --------------------------------------------


def run_cli(served: Any, *argv: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "ORDOCLIC_BASE_URL": served.base_url,
        "ORDOCLIC_PARTNER_ID": served.partner_id,
        "ORDOCLIC_PRIVATE_KEY_PATH": str(served.private_key_path),
        "ORDOCLIC_RPPS": RPPS,
    }
    return subprocess.run(
        [sys.executable, "-m", "ordoclic_client", *argv],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.served
def test_served_sandbox_auth_validate_and_search(served_sandbox: Any) -> None:
    auth = run_cli(served_sandbox, "auth")
    validate = run_cli(served_sandbox, "professional", "validate", "10100004562")
    search = run_cli(served_sandbox, "drugs", "search", "doliprane", "--per-page", "3")

    assert (auth.returncode, auth.stderr) == (0, "")
    assert json.loads(auth.stdout)["identity"]["professional"]["rpps"] == RPPS
    assert validate.returncode == 0
    assert json.loads(validate.stdout)["rpps"] == "10100004562"
    assert search.returncode == 0
    assert json.loads(search.stdout)["per_page"] == 3


@pytest.mark.served
def test_served_sandbox_analyse_a_file(served_sandbox: Any, tmp_path: Path) -> None:
    def first_cis(text: str) -> str:
        page = json.loads(run_cli(served_sandbox, "drugs", "search", text).stdout)
        return str(page["items"][0]["cis"])

    request = {
        "patient": {"birthDate": "1961-05-14", "sex": "M"},
        "lines": [
            {"lineId": "l1", "drug": {"code": first_cis("simvastatine")}, "dose": 1, "unit": "cp"},
            {"lineId": "l2", "drug": {"code": first_cis("zeclar")}, "dose": 1, "unit": "cp"},
        ],
    }
    path = tmp_path / "analysis.json"
    path.write_text(json.dumps(request))

    done = run_cli(served_sandbox, "analyse", str(path))

    assert done.returncode == 0, done.stderr
    levels = [a["level"] for a in json.loads(done.stdout)["alerts"]]
    assert "CI" in levels


@pytest.mark.served
def test_served_sandbox_refusal_exits_1(served_sandbox: Any) -> None:
    done = run_cli(served_sandbox, "prescription", "get", "3f1c0a9e-0000-4000-8000-000000000000")

    assert done.returncode == 1
    assert json.loads(done.stdout)["rejected"]["status"] == 404
    assert done.stderr.startswith("Ordoclic refused the request (HTTP 404)")


@pytest.mark.served
def test_served_sandbox_down_exits_2(served_sandbox: Any) -> None:
    with served_sandbox.control() as control:
        control.post("/_sandbox/faults", json={"mode": "down"}).raise_for_status()

    done = run_cli(served_sandbox, "drugs", "search", "doliprane")

    assert done.returncode == 2
    assert "Ordoclic is unavailable: server error (HTTP 503)" in done.stderr
