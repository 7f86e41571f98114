"""Command line for integrators checking their credentials and the API, in the spirit of
Ordoclic's own CLI.

    python -m ordoclic_client [--base-url URL --partner-id ID --private-key PEM --rpps RPPS] COMMAND

Each option can come from the environment (ORDOCLIC_BASE_URL, ORDOCLIC_PARTNER_ID,
ORDOCLIC_PRIVATE_KEY_PATH, ORDOCLIC_RPPS). The answer is printed as JSON on stdout; problems are
explained in plain words on stderr. Exit status: 0 success, 1 refused by Ordoclic (4xx),
2 Ordoclic unavailable (network, timeout, 5xx, 429, unusable answer), 64 wrong usage or
configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TextIO

from pydantic import BaseModel, ValidationError

from ordoclic_client.auth import PartnerCredentials, token_expiry
from ordoclic_client.client import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_READ_TIMEOUT,
    OrdoclicClient,
    build_http_client,
)
from ordoclic_client.contract import AnalysisRequest
from ordoclic_client.exceptions import InvalidResponseError
from ordoclic_client.models import AuthResponse
from ordoclic_client.results import Ok, Rejected, Result, Unavailable

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_UNAVAILABLE = 2
EXIT_USAGE = 64


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    # argparse exits 2 on bad usage, which would read as "unavailable" to a script.
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = _Parser(
        prog="python -m ordoclic_client",
        description="Call Ordoclic's integrator API with partner credentials.",
        epilog="Exit status: 0 success, 1 refused, 2 unavailable, 64 usage or configuration.",
    )
    parser.add_argument(
        "--base-url",
        default=env("ORDOCLIC_BASE_URL", "http://127.0.0.1:8765"),
        help="API root (env ORDOCLIC_BASE_URL; default: the local sandbox)",
    )
    parser.add_argument(
        "--partner-id", default=env("ORDOCLIC_PARTNER_ID", ""), help="env ORDOCLIC_PARTNER_ID"
    )
    parser.add_argument(
        "--private-key",
        metavar="PEM",
        default=env("ORDOCLIC_PRIVATE_KEY_PATH", ""),
        help="partner RSA private key file, PKCS#1 or PKCS#8 (env ORDOCLIC_PRIVATE_KEY_PATH)",
    )
    parser.add_argument(
        "--rpps",
        default=env("ORDOCLIC_RPPS", ""),
        help="the professional the calls act for (env ORDOCLIC_RPPS)",
    )
    parser.add_argument("--connect-timeout", type=float, default=DEFAULT_CONNECT_TIMEOUT)
    parser.add_argument("--read-timeout", type=float, default=DEFAULT_READ_TIMEOUT)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    auth = commands.add_parser("auth", help="sign the assertion and show who the token acts for")
    auth.add_argument("--show-token", action="store_true", help="also print the Bearer token")
    auth.set_defaults(run=_auth)

    professional = commands.add_parser("professional", help="professionals").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    validate = professional.add_parser("validate", help="resolve a professional from an RPPS")
    validate.add_argument("professional_rpps", metavar="RPPS")
    validate.set_defaults(
        run=lambda c, a: c.professional_validate(rpps=a.rpps, professional_rpps=a.professional_rpps)
    )
    get = professional.add_parser("get", help="a professional by UUID or RPPS")
    get.add_argument("ref", metavar="UUID_OR_RPPS")
    get.set_defaults(run=lambda c, a: c.professional_get(rpps=a.rpps, ref=a.ref))

    drugs = commands.add_parser("drugs", help="the drug database").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    search = drugs.add_parser("search", help="search drugs by name or substance")
    search.add_argument("text")
    search.add_argument("--page", type=int, default=1)
    search.add_argument("--per-page", type=int, default=20)
    search.set_defaults(
        run=lambda c, a: c.drug_search(rpps=a.rpps, text=a.text, page=a.page, per_page=a.per_page)
    )
    drug_get = drugs.add_parser("get", help="one drug by CIS")
    drug_get.add_argument("cis")
    drug_get.set_defaults(run=lambda c, a: c.drug_get(rpps=a.rpps, cis=a.cis))
    drug_code = drugs.add_parser("code", help="the drug of a CIS, CIP13 or UCD13 code")
    drug_code.add_argument("code")
    drug_code.set_defaults(run=lambda c, a: c.drug_by_code(rpps=a.rpps, code=a.code))

    analyse = commands.add_parser(
        "analyse", help="analyse a prescription (JSON file of an analysis request; - for stdin)"
    )
    analyse.add_argument("file", metavar="FILE.json")
    analyse.set_defaults(run=_analyse)

    prescription = commands.add_parser("prescription", help="prescriptions").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p_get = prescription.add_parser("get", help="a registered prescription by Ordoclic id")
    p_get.add_argument("id")
    p_get.set_defaults(run=lambda c, a: c.prescription_get(rpps=a.rpps, prescription_id=a.id))
    p_find = prescription.add_parser(
        "find", help="the prescription registered under our external id (null if none)"
    )
    p_find.add_argument("--external-id", required=True)
    p_find.set_defaults(
        run=lambda c, a: c.prescription_find_by_external_id(rpps=a.rpps, external_id=a.external_id)
    )
    p_status = prescription.add_parser("status", help="status and per-line dispensing")
    p_status.add_argument("id")
    p_status.set_defaults(run=lambda c, a: c.prescription_status(rpps=a.rpps, prescription_id=a.id))
    return parser


def _auth(client: OrdoclicClient, args: argparse.Namespace) -> Result[Any]:
    result = client.auth(rpps=args.rpps)
    if not isinstance(result, Ok):
        return result
    answer: AuthResponse = result.value
    try:
        expires = datetime.fromtimestamp(token_expiry(answer.token), UTC)
    except InvalidResponseError as exc:
        return Unavailable(exc.message, sent=True)
    shown: dict[str, Any] = {
        "identity": answer.identity.model_dump(mode="json", by_alias=True),
        "tokenExpiresAt": expires.isoformat(),
    }
    if args.show_token:
        shown["token"] = answer.token
    return Ok(shown)


def _analyse(client: OrdoclicClient, args: argparse.Namespace) -> Result[Any]:
    try:
        raw = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from exc
    try:
        request = AnalysisRequest.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'file'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise UsageError(f"{args.file} is not an analysis request ({problems})") from exc
    return client.prescription_analyse(rpps=args.rpps, request=request)


def _credentials(args: argparse.Namespace) -> PartnerCredentials:
    if not args.partner_id:
        raise UsageError("no partner id: pass --partner-id or set ORDOCLIC_PARTNER_ID")
    if not args.private_key:
        raise UsageError("no private key: pass --private-key or set ORDOCLIC_PRIVATE_KEY_PATH")
    if not args.rpps:
        raise UsageError("no professional: pass --rpps or set ORDOCLIC_RPPS")
    try:
        credentials = PartnerCredentials.from_key_file(
            partner_id=args.partner_id, private_key_path=args.private_key
        )
        credentials.private_key()
    except OSError as exc:
        raise UsageError(f"cannot read the private key {args.private_key}: {exc.strerror}") from exc
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"{args.private_key} is not an unencrypted RSA private key in PEM"
        ) from exc
    return credentials


def _jsonable(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def _print(data: Any, stream: TextIO) -> None:
    json.dump(_jsonable(data), stream, ensure_ascii=False, indent=2)
    stream.write("\n")


def report(result: Result[Any], *, stdout: TextIO, stderr: TextIO) -> int:
    match result:
        case Ok(value):
            _print(value, stdout)
            return EXIT_OK
        case Rejected(status=status, errors=errors, details=details):
            _print(
                {
                    "rejected": {
                        "status": status,
                        "errors": [
                            {"code": e.code, "message": e.message, "field": e.field} for e in errors
                        ],
                        **details,
                    }
                },
                stdout,
            )
            stderr.write(f"Ordoclic refused the request (HTTP {status}): {result.message}\n")
            return EXIT_REJECTED
        case Unavailable(reason=reason, retry_after=retry_after, sent=sent):
            _print(
                {"unavailable": {"reason": reason, "retryAfter": retry_after, "sent": sent}}, stdout
            )
            advice = f" Try again in {retry_after:.0f} s." if retry_after else ""
            maybe = " The request may have reached Ordoclic." if sent else ""
            stderr.write(f"Ordoclic is unavailable: {reason}.{maybe}{advice}\n")
            return EXIT_UNAVAILABLE
    raise AssertionError(result)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[OrdoclicClient, argparse.Namespace], Result[Any]] = args.run
    try:
        credentials = _credentials(args)
        http = build_http_client(
            base_url=args.base_url,
            connect_timeout=args.connect_timeout,
            read_timeout=args.read_timeout,
        )
        client = OrdoclicClient(http=http, credentials=credentials)
        try:
            result = run(client, args)
        finally:
            client.close()
    except UsageError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    return report(result, stdout=sys.stdout, stderr=sys.stderr)
