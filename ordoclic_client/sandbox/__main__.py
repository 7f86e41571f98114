"""``python -m ordoclic_client.sandbox`` (serve) and ``... import-bdpm --state DIR BDPM_DIR``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from ordoclic_client.bdpm import BdpmFilesMissing
from ordoclic_client.sandbox.app import SandboxApp
from ordoclic_client.sandbox.catalogue import import_bdpm
from ordoclic_client.sandbox.server import SandboxServer
from ordoclic_client.sandbox.webhooks import WebhookTarget


def _serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ordoclic_client.sandbox", description="Serve the Ordoclic sandbox."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--state", type=Path, default=Path("var/sandbox"))
    parser.add_argument("--webhook-url", help="POST signed dispensing/cancel events here")
    parser.add_argument(
        "--webhook-secret-env",
        default="ORDOCLIC_WEBHOOK_SECRET",
        help="name of the environment variable holding the webhook secret",
    )
    args = parser.parse_args(argv)
    webhook = None
    if args.webhook_url:
        secret = os.environ.get(args.webhook_secret_env, "")
        if not secret:
            parser.error(f"--webhook-url needs a secret in ${args.webhook_secret_env}")
        webhook = WebhookTarget(url=args.webhook_url, secret=secret)
    app = SandboxApp(args.state, webhook=webhook)
    server = SandboxServer((args.host, args.port), app)
    host, port = server.server_address[:2]
    print(f"Ordoclic sandbox on http://{host!s}:{port}", flush=True)
    print(f"  partner id:       {app.partner_id}", flush=True)
    print(f"  private key:      {app.partner.private_key_path}", flush=True)
    print(f"  credentials file: {(args.state / 'partner.json').resolve()}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _import(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ordoclic_client.sandbox import-bdpm",
        description="Import the full BDPM files (Windows-1252, tab-separated) into the sandbox.",
    )
    parser.add_argument("--state", type=Path, default=Path("var/sandbox"))
    parser.add_argument("bdpm_dir", type=Path)
    args = parser.parse_args(argv)
    app = SandboxApp(args.state)
    try:
        count = import_bdpm(app.store, args.bdpm_dir)
    except BdpmFilesMissing as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{count} products imported into {args.state}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if argv[:1] == ["import-bdpm"]:
        return _import(argv[1:])
    return _serve(argv)


if __name__ == "__main__":
    sys.exit(main())
