"""Real local receivers for NOT-1 tests: an SMTP server (aiosmtpd) and an HTTP server, both on 127.0.0.1.
No test talks to any other host."""

import json
import socket
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from aftersales.notify.models import EndpointKind, WebhookEndpoint

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 26, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch):
    """urllib honours *_proxy variables; the receivers are on this machine."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver:
    """An HTTP server that answers POSTs from a script of (status, JSON body) and records each request."""

    def __init__(self):
        self.script: list[tuple[int, object]] = []
        self.requests: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                receiver.requests.append({"path": parts.path, "query": parse_qs(parts.query), "headers": dict(self.headers),
                                          "raw": raw, "json": json.loads(raw.decode("utf-8"))})
                status, body = receiver.script.pop(0) if receiver.script else (200, {"errcode": 0, "errmsg": "ok"})
                answer = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=tok123"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def make_endpoint(db, receiver):
    def make(**fields):
        fields = {"name": f"robot-{WebhookEndpoint.objects.count() + 1}", "kind": EndpointKind.DINGTALK,
                  "url": receiver.url, **fields}
        return WebhookEndpoint.objects.create(**fields)

    return make


@pytest.fixture
def with_email(dispatcher, engineer):
    dispatcher.email, engineer.email = "dispatcher@integrator.example", "engineer@integrator.example"
    dispatcher.save(update_fields=["email"])
    engineer.save(update_fields=["email"])
    return dispatcher, engineer
