# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A fault-injecting reverse proxy on loopback, in front of the local AWS emulator.

Point a module's ``endpoint_url`` (or ``AWS_URL``) at the proxy. It forwards every request to the
emulator, except the ones a plan tells it to break. It answers those the way AWS does when it is
overloaded or failing, in the wire format of the service that was called, or it drops the connection
without an answer (before or after the emulator did the work):

=====================  ==========================================================================
kind                   answer
=====================  ==========================================================================
Throttling             HTTP 400, query-XML error ``Throttling`` (IAM, STS)
ThrottlingException    HTTP 400, JSON error ``ThrottlingException`` (SSM, Logs, KMS: the services
                       called with an ``X-Amz-Target`` header)
RequestLimitExceeded   HTTP 503, EC2 error ``RequestLimitExceeded`` (EC2)
500                    HTTP 500, ``InternalFailure`` (EC2: ``InternalError``), any service
503                    HTTP 503, ``ServiceUnavailable`` (EC2: ``Unavailable``), any service
reset                  the connection is closed (TCP reset) without an answer, any service; the
                       request never reaches the emulator
lost                   the request is forwarded and the emulator carries it out, then the connection
                       is closed (TCP reset) without its answer, any service: a create whose
                       outcome the caller cannot know
error                  a chosen HTTP status and error code, e.g. a non-retryable ``AccessDenied``
=====================  ==========================================================================

A plan is a list of bursts, served in order. A burst breaks ``count`` consecutive requests that it
applies to (its kind's services, or the ``services``/``operations`` it names); once it is spent, ``gap``
requests pass before the next burst starts. Faults stop for good after ``max_faults`` faults,
``max_requests`` requests or ``window`` seconds, whichever comes first, so a run always ends with the
emulator answering; the proxy itself shuts down after ``lifetime`` seconds if nobody stops it.
``injected`` counts what was broken, by kind, service and operation; ``forwarded(operation)``
counts the requests the emulator received (passed on or ``lost``); ``lost_answers`` keeps the bodies of
the answers ``lost`` dropped (a test can tell what the emulator made).

``before_forward``, when given, is called with each request (a ``Request``: ``service``, ``operation``,
``body``) before the proxy decides on it: a test's other client can write right between two calls of a
module, deterministically. ``after_forward``, when given, is called with each request passed on and the
emulator's answer body, and returns the body to send back: a test can make the emulator say what it cannot
(for example, a GetCallerIdentity answer naming the account root user).

    with FaultProxy(upstream, [Burst("Throttling", 4), Burst("reset", 2)]) as proxy:
        run_something(endpoint_url=proxy.url)
    assert proxy.injected_total("Throttling") == 4

Command line (for trying a playbook by hand)::

    python fault_proxy.py UPSTREAM_URL KIND:COUNT [KIND:COUNT ...]
"""

import collections
import dataclasses
import http.client
import http.server
import json
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid

QUERY_SERVICES = frozenset({"iam", "sts"})

# kind -> (HTTP status, code by wire format, message)
_ANSWERS = {
    "Throttling": (400, {"query": "Throttling", "json": "Throttling", "ec2": "Throttling"}, "Rate exceeded"),
    "ThrottlingException": (
        400,
        {"query": "ThrottlingException", "json": "ThrottlingException", "ec2": "ThrottlingException"},
        "Rate exceeded",
    ),
    "RequestLimitExceeded": (
        503,
        {"query": "RequestLimitExceeded", "json": "RequestLimitExceeded", "ec2": "RequestLimitExceeded"},
        "Request limit exceeded.",
    ),
    "500": (500, {"query": "InternalFailure", "json": "InternalFailure", "ec2": "InternalError"}, "Internal failure"),
    "503": (
        503,
        {"query": "ServiceUnavailable", "json": "ServiceUnavailable", "ec2": "Unavailable"},
        "Service is unavailable",
    ),
}
KINDS = tuple(_ANSWERS) + ("reset", "lost", "error")
# Kinds whose request reaches the emulator.
FORWARDED = ("pass", "lost")


def _default_applies(kind, request):
    """Which requests a kind breaks when the burst names no services: the ones that AWS answers so."""
    if kind == "Throttling":
        return request.service in QUERY_SERVICES
    if kind == "ThrottlingException":
        return request.wire == "json"
    if kind == "RequestLimitExceeded":
        return request.service == "ec2"
    return True


@dataclasses.dataclass
class Burst:
    kind: str
    count: int = 1
    services: tuple = ()  # signing names (iam, sts, ssm, logs, ec2, ...); empty: the kind's own
    operations: tuple = ()  # API operation names (CreateRole, PutParameter, ...); empty: any
    status: int = 400  # kind "error" only
    code: str = "AccessDenied"  # kind "error" only
    message: str = "injected by the fault proxy"  # kind "error" only

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.count < 1:
            raise ValueError("a burst breaks at least one request")

    def applies_to(self, request):
        if self.operations and request.operation not in self.operations:
            return False
        if self.services:
            return request.service in self.services
        return _default_applies(self.kind, request) if not self.operations else True


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes
    service: str = ""
    operation: str = ""
    wire: str = "query"

    @classmethod
    def parse(cls, method, path, headers, body):
        request = cls(method, path, headers, body)
        lower = {k.lower(): v for k, v in headers.items()}
        scope = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", lower.get("authorization", ""))
        request.service = scope.group(1) if scope else ""
        target = lower.get("x-amz-target", "")
        if target:
            request.wire = "json"
            request.operation = target.rsplit(".", 1)[-1]
        else:
            request.wire = "ec2" if request.service == "ec2" else "query"
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            form = form or urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
            request.operation = form.get("Action", [""])[0]
        return request


def _error_answer(status, code, message, request):
    request_id = str(uuid.uuid4())
    if request.wire == "json":
        body = json.dumps({"__type": code, "message": message}).encode()
        return status, "application/x-amz-json-1.1", body
    if request.wire == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
            f"<RequestID>{request_id}</RequestID></Response>"
        ).encode()
        return status, "text/xml", body
    body = (
        f'<ErrorResponse xmlns="https://{request.service or "iam"}.amazonaws.com/doc/2010-05-08/">'
        f"<Error><Type>{'Sender' if status < 500 else 'Receiver'}</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return status, "text/xml", body


class FaultProxy:
    """A reverse proxy to ``upstream`` on a free loopback port that breaks requests as planned."""

    def __init__(
        self, upstream, plan=(), max_faults=100, max_requests=2000, window=300.0, lifetime=900.0, gap=1, before_forward=None, after_forward=None
    ):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.before_forward = before_forward
        self.after_forward = after_forward
        self.plan = list(plan)
        self.max_faults = max_faults
        self.max_requests = max_requests
        self.window = window
        self.lifetime = lifetime
        self.gap = gap
        self.injected = collections.Counter()  # (kind, service, operation) -> faults
        self.requests = collections.Counter()  # (service, operation) -> requests seen
        self.log = []  # (seconds since start, service, operation, kind or "pass")
        self.lost_answers = []  # bodies of the answers the kind "lost" dropped
        self._lock = threading.Lock()
        self._burst = 0
        self._left_in_burst = self.plan[0].count if self.plan else 0
        self._gap_left = 0
        self._started = None
        self._server = None
        self._threads = []

    # -- life cycle -----------------------------------------------------------------------------
    def start(self):
        proxy = self

        class Handler(_Handler):
            fault_proxy = proxy

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._started = time.monotonic()
        serve = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        serve.start()
        timer = threading.Timer(self.lifetime, self.stop)
        timer.daemon = True
        timer.start()
        self._threads = [serve, timer]
        return self.url

    def stop(self):
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            if isinstance(thread, threading.Timer):
                thread.cancel()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- accounting -----------------------------------------------------------------------------
    def injected_total(self, kind=None, service=None):
        return sum(n for (k, s, _status), n in self.injected.items() if kind in (None, k) and service in (None, s))

    def summary(self):
        """JSON-friendly counts: faults by kind and by service, requests seen, bursts served."""
        by_kind = collections.Counter()
        by_service = collections.Counter()
        for (kind, service, _status), n in self.injected.items():
            by_kind[kind] += n
            by_service[service] += n
        return {
            "faults": sum(by_kind.values()),
            "by_kind": dict(by_kind),
            "by_service": dict(by_service),
            "requests": sum(self.requests.values()),
            "bursts_served": self._burst,
            "bursts_planned": len(self.plan),
        }

    def forwarded(self, operation=None):
        """How many requests (of ``operation``) reached the emulator."""
        return sum(1 for _t, _service, op, kind in self.log if kind in FORWARDED and operation in (None, op))

    @property
    def plan_spent(self):
        return self._burst >= len(self.plan)

    # -- the decision ---------------------------------------------------------------------------
    def decide(self, request):
        """Return the burst that breaks ``request``, or None to pass it on."""
        with self._lock:
            self.requests[(request.service, request.operation)] += 1
            elapsed = time.monotonic() - self._started
            seen = sum(self.requests.values())
            faults = sum(self.injected.values())
            burst = None
            if self._burst < len(self.plan) and faults < self.max_faults and seen <= self.max_requests and elapsed <= self.window:
                candidate = self.plan[self._burst]
                if self._gap_left > 0:
                    self._gap_left -= 1
                elif candidate.applies_to(request):
                    burst = candidate
                    self._left_in_burst -= 1
                    if self._left_in_burst == 0:
                        self._burst += 1
                        self._gap_left = self.gap
                        if self._burst < len(self.plan):
                            self._left_in_burst = self.plan[self._burst].count
            kind = burst.kind if burst else "pass"
            if burst:
                self.injected[(burst.kind, request.service, request.operation)] += 1
            self.log.append((round(elapsed, 3), request.service, request.operation, kind))
            return burst


def caller_as(arn):
    """An ``after_forward`` hook: GetCallerIdentity answers with ``arn`` (moto's always names an IAM user)."""

    def rewrite(request, payload):
        if request.operation != "GetCallerIdentity":
            return payload
        return re.sub(rb"<Arn>[^<]*</Arn>", b"<Arn>" + arn.encode() + b"</Arn>", payload)

    return rewrite


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fault_proxy = None  # set on the subclass made per proxy

    def log_message(self, *args):
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = dict(self.headers.items())
        request = Request.parse(self.command, self.path, headers, body)
        if self.fault_proxy.before_forward is not None:
            self.fault_proxy.before_forward(request)
        burst = self.fault_proxy.decide(request)
        if burst is not None and burst.kind in ("reset", "lost"):
            if burst.kind == "lost":
                # The emulator does the work; its answer never reaches the caller.
                self.fault_proxy.lost_answers.append(self._fetch(request)[3])
            # Close without an answer; SO_LINGER 0 sends a TCP reset instead of a clean FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if burst is not None:
            if burst.kind == "error":
                status, content_type, payload = _error_answer(burst.status, burst.code, burst.message, request)
            else:
                status, codes, message = _ANSWERS[burst.kind]
                status, content_type, payload = _error_answer(status, codes[request.wire], message, request)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            self.end_headers()
            self.wfile.write(payload)
            return
        self._forward(request)

    def _fetch(self, request):
        """Send ``request`` to the emulator; return its status, reason, headers and body."""
        upstream = self.fault_proxy.upstream
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
        try:
            headers = {k: v for k, v in request.headers.items() if k.lower() not in ("connection", "keep-alive")}
            connection.request(request.method, request.path, body=request.body, headers=headers)
            response = connection.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            connection.close()

    def _forward(self, request):
        status, reason, headers, payload = self._fetch(request)
        if self.fault_proxy.after_forward is not None:
            payload = self.fault_proxy.after_forward(request, payload)
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in ("transfer-encoding", "connection", "content-length", "keep-alive"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    plan = []
    for spec in argv[1:]:
        kind, _sep, count = spec.partition(":")
        plan.append(Burst(kind, int(count or 1)))
    with FaultProxy(argv[0], plan) as proxy:
        print(proxy.url, flush=True)
        try:
            while not proxy.plan_spent:
                time.sleep(0.5)
            print(json.dumps(proxy.summary()), flush=True)
            threading.Event().wait()
        except KeyboardInterrupt:
            print(json.dumps(proxy.summary()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
