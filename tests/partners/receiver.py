"""A partner's webhook receiver for the tests: a real HTTP server on 127.0.0.1 in a thread,
that checks every delivery's signature with partners.signing (as a partner would with the
code in docs/integration.md) and answers what the test tells it to (a status, headers, a
delay)."""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from partners import signing


@dataclass
class Delivery:
    path: str
    headers: dict
    body: bytes
    verified: bool
    why_not: str = ""
    at: float = 0.0  # time.monotonic() when it arrived

    @property
    def payload(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str = ""
    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0.0
    deliveries: list = field(default_factory=list)
    # Answers to give first, in order, as (status, headers); then ``status`` for the rest.
    script: list = field(default_factory=list)

    def answer(self, status: int, *, headers: dict | None = None, delay: float = 0.0) -> None:
        self.status, self.headers, self.delay = status, headers or {}, delay

    def url(self, path: str = "/hooks/shitun") -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{path}"


def _handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                signing.verify(receiver.secret, body, self.headers.get(signing.SIGNATURE_HEADER))
                verified, why_not = True, ""
            except signing.SignatureError as exc:
                verified, why_not = False, str(exc)
            receiver.deliveries.append(
                Delivery(self.path, dict(self.headers), body, verified, why_not, time.monotonic())
            )
            if receiver.delay:
                threading.Event().wait(receiver.delay)
            status, headers = receiver.status, receiver.headers
            if receiver.script:
                status, headers = receiver.script.pop(0)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            answer = b'{"ok": true}' if status < 300 else b"no thanks"
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            try:
                self.wfile.write(answer)
            except OSError:
                pass  # the sender gave up waiting (a timeout test)

        def log_message(self, *args):
            pass

    return Handler


def start() -> Receiver:
    receiver = Receiver()
    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.server.daemon_threads = True
    receiver.thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    receiver.thread.start()
    return receiver


def stop(receiver: Receiver) -> None:
    receiver.server.shutdown()
    receiver.server.server_close()
