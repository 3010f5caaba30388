# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop the local AWS emulator (a real moto server on loopback).

Used by the test suite and by ``make demo``. The server gets a free loopback port and the AWS
managed policies (CloudWatchAgentServerPolicy and friends) loaded, as real IAM has them.

    python local_aws.py start STATE_DIR [PORT]   # prints the endpoint URL; writes STATE_DIR/{pid,url,env}
    python local_aws.py stop STATE_DIR

A server this state directory started and still running is reused. PORT fixes the port (default: a free one),
for callers that must name the endpoint before the server runs.
"""

import collections
import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "local-emulator-secret-not-a-real-key",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"moto_server did not answer on {url} within {timeout}s")


def port_taken(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(state_dir, log_path=None, port=None):
    """Start a moto server keeping its request recording in STATE_DIR; return (process, url)."""
    moto = shutil.which("moto_server") or str(Path(sys.executable).with_name("moto_server"))
    if port is None:
        port = free_port()
    elif port_taken(port):
        raise RuntimeError(f"port {port} on 127.0.0.1 is taken by another process: stop it or choose another port")
    env = dict(
        os.environ,
        MOTO_IAM_LOAD_MANAGED_POLICIES="true",
        MOTO_ENABLE_RECORDING="",
        MOTO_RECORDER_FILEPATH=str(Path(state_dir) / "recording.jsonl"),
    )
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, process)
    return process, url


def _post(url, path):
    request = urllib.request.Request(url + path, data=b"", method="POST")
    urllib.request.urlopen(request, timeout=30).close()


def reset(url):
    """Forget every resource (the managed policies come back)."""
    _post(url, "/moto-api/reset")


def start_recording(url):
    _post(url, "/moto-api/recorder/reset-recording")
    _post(url, "/moto-api/recorder/start-recording")


def stop_recording(url):
    """Stop recording; return the calls made since start_recording, oldest first.

    Each call is a dict with ``operation`` (``GetRole``, ``PutParameter``, ...) and ``access_key_id``
    (the key that signed the request, from its SigV4 Authorization header).
    """
    _post(url, "/moto-api/recorder/stop-recording")
    with urllib.request.urlopen(url + "/moto-api/recorder/download-recording", timeout=30) as response:
        lines = response.read().decode().splitlines()
    return [_describe_call(json.loads(line)) for line in lines if line.strip()]


def _describe_call(entry):
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    target = headers.get("x-amz-target", "")
    if target:
        operation = target.rsplit(".", 1)[-1]
    else:
        query = urllib.parse.parse_qs(body) or urllib.parse.parse_qs(urllib.parse.urlsplit(entry["url"]).query)
        operation = query.get("Action", [entry["method"] + " " + urllib.parse.urlsplit(entry["url"]).path])[0]
    signer = re.search(r"Credential=([^/]+)/", headers.get("authorization", ""))
    return {"operation": operation, "access_key_id": signer.group(1) if signer else None}


def environment(url):
    """Environment variables that point boto3 and the amazon.aws connection options at the emulator."""
    return dict(TEST_CREDENTIALS, AWS_URL=url, AWS_ENDPOINT_URL=url)


def _running(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def cli_start(state_dir, port=None):
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    pid_file = state / "pid"
    if pid_file.exists() and _running(int(pid_file.read_text())):
        print((state / "url").read_text().strip())
        return
    try:
        process, url = start(state, log_path=state / "moto.log", port=int(port) if port else None)
    except RuntimeError as error:
        sys.exit(f"local AWS not started: {error}")
    pid_file.write_text(str(process.pid))
    (state / "url").write_text(url + "\n")
    (state / "env").write_text("".join(f"export {k}={v}\n" for k, v in environment(url).items()))
    print(url)


def cli_stop(state_dir):
    pid_file = Path(state_dir) / "pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    if _running(pid):
        os.killpg(pid, signal.SIGTERM)
        # Wait for the port to be given back: a start right after a stop may ask for the same one.
        port = urllib.parse.urlsplit((Path(state_dir) / "url").read_text().strip()).port
        deadline = time.monotonic() + 10
        while port_taken(port) and time.monotonic() < deadline:
            time.sleep(0.1)
    pid_file.unlink()


if __name__ == "__main__":
    if sys.argv[1:2] == ["start"] and len(sys.argv) in (3, 4):
        cli_start(*sys.argv[2:])
    elif sys.argv[1:2] == ["stop"] and len(sys.argv) == 3:
        cli_stop(sys.argv[2])
    else:
        sys.exit(__doc__)


def operation_counts(calls):
    """How often each operation was called: what a user pays for, whatever the order of the calls."""
    return dict(collections.Counter(call["operation"] for call in calls))
