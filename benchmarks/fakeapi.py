"""A local HTTP server that plays the X and Facebook APIs, with a fixed latency per request.

The redirect plugin sends `https://<host>/<path>` to `http://127.0.0.1:<port>/<host>/<path>`, so the
first path segment names the platform host. Answers are shaped like the documented ones:
POST /2/tweets -> 201 {"data": {"id", "text"}}, GET /2/users/me -> {"data": {"id", "username"}},
POST /{version}/{page}/feed -> {"id": "{page}_{n}"}.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

X_HOSTS = ("api.twitter.com", "api.x.com")
FACEBOOK_HOST = "graph.facebook.com"
_OAUTH_TOKEN = re.compile(r'oauth_token="([^"]+)"')


@dataclass(frozen=True)
class Hit:
    """One request the server answered."""

    started: float  # perf_counter when the request line was read
    ended: float  # perf_counter when the answer was written
    method: str
    host: str
    path: str
    account: str  # the X access token or the Facebook Page id that made it
    text: str | None  # the post's text, for POSTs that create one
    status: int


class FakeAPI:
    """Start with `with FakeAPI(latency=0.05) as api:`; `api.base` is the URL to redirect to."""

    def __init__(self, latency: float = 0.0):
        self.latency = latency
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1_900_000_000_000_000_000)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-api", daemon=True)

    @property
    def base(self) -> str:
        """http://127.0.0.1:<port>"""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeAPI":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset(self, latency: float | None = None) -> None:
        """Forget the hits (and change the latency) between runs."""
        with self._lock:
            self.hits = []
            if latency is not None:
                self.latency = latency

    def _record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def _next_id(self) -> str:
        with self._lock:
            return str(next(self._ids))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs
            # Headers and body go out in separate writes; with Nagle's algorithm the body would wait
            # for the client's delayed ACK (40 ms on Linux) and the server would add latency of its own.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                started = time.perf_counter()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                host, _, path = parts.path.lstrip("/").partition("/")
                path = "/" + path
                if api.latency:
                    time.sleep(api.latency)
                status, answer, account, text = api._answer(method, host, path, parts.query, self.headers, body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                api._record(Hit(started, time.perf_counter(), method, host, path, account, text, status))

        return Handler

    def _answer(self, method: str, host: str, path: str, query: str, headers, body: bytes):
        if host in X_HOSTS:
            token = _OAUTH_TOKEN.search(headers.get("Authorization", ""))
            account = token.group(1) if token else headers.get("Authorization", "")[-12:]
            if method == "POST" and path == "/2/tweets":
                text = json.loads(body or b"{}").get("text", "")
                return 201, {"data": {"id": self._next_id(), "text": text, "edit_history_tweet_ids": []}}, account, text
            if method == "GET" and path == "/2/users/me":
                return 200, {"data": {"id": "1", "name": "CCBL", "username": "ccbl"}}, account, None
        elif host == FACEBOOK_HOST:
            match = re.fullmatch(r"/v[\d.]+/([^/]+)/feed", path)
            if method == "POST" and match:
                form = parse_qs(body.decode("utf-8", "replace")) if body else parse_qs(query)
                page = match.group(1)
                text = (form.get("message") or [""])[0]
                return 200, {"id": f"{page}_{self._next_id()}"}, page, text
        return 404, {"error": {"message": f"the benchmark's fake API has no {method} {host}{path}", "code": 803}}, "", None
