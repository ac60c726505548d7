"""Real receivers on 127.0.0.1 for delivery tests: an HTTP server and an SMTP server."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float  # time.time()

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def signature_valid(self, secret: str) -> bool:
        """Checked here with hmac directly, as a receiver would: HMAC-SHA256 of
        ``<timestamp>.<body>``."""
        timestamp = self.headers.get("x-pipetrail-timestamp", "")
        expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + self.body,
                                        hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, self.headers.get("x-pipetrail-signature", ""))


@dataclass
class WebhookReceiver:
    """Records every POST; answers with the next of ``statuses`` (then 200). While
    ``hold`` is set, requests wait (up to 60 s) before being answered."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    requests: list[Request] = field(default_factory=list)
    hold: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                request = Request(self.path, {k.lower(): v for k, v in self.headers.items()},
                                  body, time.time())
                with receiver.arrived:
                    receiver.requests.append(request)
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.arrived.notify_all()
                deadline = time.monotonic() + 60
                while receiver.hold.is_set() and time.monotonic() < deadline:
                    time.sleep(0.02)
                if receiver.delay:
                    time.sleep(receiver.delay)
                payload = b"ok" if status < 400 else b"no"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Request]:
        """The first ``count`` requests, waiting up to ``timeout`` for them."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} request(s) within {timeout} s, "
                                         f"got {len(self.requests)}")
                self.arrived.wait(left)
            return list(self.requests[:count])

    def close(self) -> None:
        self.hold.clear()
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    content: bytes


class _MailHandler:
    def __init__(self, inbox: list[Mail], arrived: threading.Condition,
                 refuse: set[str]) -> None:
        self.inbox = inbox
        self.arrived = arrived
        self.refuse = refuse

    async def handle_RCPT(self, server: Any, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        with self.arrived:
            self.inbox.append(Mail(str(envelope.mail_from), list(envelope.rcpt_tos), content))
            self.arrived.notify_all()
        return "250 Message accepted"


class _Authenticator:
    def __init__(self, user: str, password: str) -> None:
        self.user = user
        self.password = password

    def __call__(self, server: Any, session: Session, envelope: Envelope, mechanism: str,
                 auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login.decode() == self.user
              and auth_data.password.decode() == self.password)
        return AuthResult(success=ok, handled=False)


class SmtpReceiver:
    """An aiosmtpd server on 127.0.0.1; with ``user``/``password`` it requires AUTH,
    with ``tls_context`` it offers (and requires) STARTTLS, with ``implicit_tls`` it
    speaks TLS from the first byte."""

    def __init__(self, user: str | None = None, password: str | None = None,
                 tls_context: Any = None, refuse: set[str] | None = None,
                 implicit_tls: Any = None) -> None:
        self.inbox: list[Mail] = []
        self.arrived = threading.Condition()
        handler = _MailHandler(self.inbox, self.arrived, refuse or set())
        options: dict[str, Any] = {}
        if user is not None and password is not None:
            options.update(authenticator=_Authenticator(user, password), auth_required=True,
                           auth_require_tls=tls_context is not None)
        if tls_context is not None:
            options.update(tls_context=tls_context, require_starttls=True)
        self.closed = False
        self.port = free_port()
        self.controller = Controller(handler, hostname="127.0.0.1", port=self.port,
                                     ssl_context=implicit_tls, **options)
        self.controller.start()

    def env(self, security: str = "none", **extra: str) -> dict[str, str]:
        return {"PIPETRAIL_SMTP_HOST": "127.0.0.1", "PIPETRAIL_SMTP_PORT": str(self.port),
                "PIPETRAIL_SMTP_SECURITY": security,
                "PIPETRAIL_SMTP_FROM": "pipetrail@example.test", **extra}

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Mail]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.inbox) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} mail(s), got {len(self.inbox)}")
                self.arrived.wait(left)
            return list(self.inbox[:count])

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.controller.stop()


def events_of(requests: list[Request]) -> Iterator[dict[str, Any]]:
    for request in requests:
        yield request.json
