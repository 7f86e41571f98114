"""Served mode: the same handler behind a threaded HTTP server (stdlib)."""

from __future__ import annotations

import contextlib
import logging
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from ordoclic_client.sandbox.app import SandboxApp
from ordoclic_client.sandbox.faults import HANG_MAX_SECONDS

logger = logging.getLogger(__name__)
MAX_BODY = 5 * 1024 * 1024


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: SandboxServer
    protocol_version = "HTTP/1.1"
    # headers and body leave in separate writes: without this, delayed ACKs add ~40 ms
    disable_nagle_algorithm = True

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host", "sandbox")
        request = httpx.Request(
            self.command,
            f"http://{host}{self.path}",
            headers=list(self.headers.items()),
            content=body,
        )
        app = self.server.app
        outcome = app.handle(request)
        decision = outcome.decision
        if decision.hang:
            app.faults.wait_for_change(HANG_MAX_SECONDS)
            self._drop()
            return
        if decision.delay_seconds:
            time.sleep(decision.delay_seconds)
        if decision.drop_after_processing:
            self._drop()
            return
        response = outcome.response
        content = response.content
        try:
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
        except (BrokenPipeError, ConnectionResetError):
            logger.info("client went away before the answer to %s %s", self.command, self.path)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle
    do_PATCH = _handle

    def log_message(self, format: str, *args: object) -> None:
        # request lines only (paths carry ids, never patient data)
        logger.info("%s %s", self.address_string(), format % args)
