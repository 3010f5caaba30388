# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fault proxy's ``reset`` and ``lost`` kinds, against a small upstream that counts what reaches it."""

import http.client
import http.server
import threading

import pytest

import fault_proxy  # from tests/tools (pytest.ini pythonpath)

SIGNED = {"Authorization": "AWS4-HMAC-SHA256 Credential=a/20240501/us-east-1/iam/aws4_request, SignedHeaders=host"}


@pytest.fixture
def upstream():
    """A loopback server answering 200 to every POST; ``.bodies`` holds what it received."""
    bodies = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_POST(self):
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.bodies = bodies
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()
    server.server_close()


def _post(url, action):
    host, port = url.rsplit("/", 1)[-1].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("POST", "/", body=f"Action={action}&Version=2010-05-08", headers=SIGNED)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("kind, reached", [("lost", 1), ("reset", 0)])
def test_a_dropped_answer_after_or_before_the_emulator_did_the_work(upstream, kind, reached):
    with fault_proxy.FaultProxy(upstream.url, [fault_proxy.Burst(kind, 1, operations=("CreateAccessKey",))], gap=0) as proxy:
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            _post(proxy.url, "CreateAccessKey")
        assert len(upstream.bodies) == reached
        assert _post(proxy.url, "CreateAccessKey") == (200, b"ok")  # the burst is spent
        assert _post(proxy.url, "ListAccessKeys") == (200, b"ok")
    assert proxy.injected_total(kind) == 1
    assert proxy.lost_answers == [b"ok"] * reached
    assert proxy.forwarded("CreateAccessKey") == reached + 1
    assert proxy.forwarded() == reached + 2
    assert len(upstream.bodies) == reached + 2
