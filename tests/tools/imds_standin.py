# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for the EC2 instance metadata service, on loopback, for the role's Molecule tests.

The test containers share the host's network, so they cannot reach real instance metadata. This serves the
few IMDSv2 paths an agent uses on EC2: a session token, the instance identity document (region, instance id),
``iam/info`` and the credentials of an "instance profile role", read at each request from a JSON file with
access_key_id and secret_access_key (a key the test created in the moto server), and optionally role (the role
name) and instance_profile_arn (for ``iam/info``). Until that file exists, credentials are 404.

The session token is random, one per start; a request that sends another token gets 401, as on EC2.

    imds_standin.py start STATE_DIR CREDENTIALS_JSON [REGION]   # prints the URL; writes STATE_DIR/{pid,url}
    imds_standin.py stop STATE_DIR
"""

import datetime
import http.server
import json
import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path

ROLE = "CloudWatchAgentServerRole"
INSTANCE_ID = "i-0123456789abcdef0"


def handler_for(credentials_file, region):
    token = secrets.token_urlsafe(32)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status, body, content_type="text/plain"):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self):
            if self.path == "/latest/api/token":
                self._send(200, token)
            else:
                self._send(404, "not found")

        def _key(self):
            try:
                return json.loads(Path(credentials_file).read_text())
            except (OSError, ValueError):
                return None

        def do_GET(self):
            path = self.path.rstrip("/")
            sent = self.headers.get("X-aws-ec2-metadata-token")
            key = self._key()
            role = (key or {}).get("role", ROLE)
            if sent is not None and sent != token:
                self._send(401, "Unauthorized")
            elif path == "/latest/dynamic/instance-identity/document":
                document = {
                    "region": region,
                    "instanceId": INSTANCE_ID,
                    "accountId": "123456789012",
                    "instanceType": "t3.micro",
                    "imageId": "ami-0123456789abcdef0",
                    "availabilityZone": region + "a",
                    "privateIp": "127.0.0.1",
                }
                self._send(200, json.dumps(document), "application/json")
            elif path == "/latest/meta-data/instance-id":
                self._send(200, INSTANCE_ID)
            elif path == "/latest/meta-data/placement/region":
                self._send(200, region)
            elif path == "/latest/meta-data/iam/info" and key and key.get("instance_profile_arn"):
                now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                body = {"Code": "Success", "LastUpdated": now, "InstanceProfileArn": key["instance_profile_arn"],
                        "InstanceProfileId": "AIPAEXAMPLESTANDIN000"}
                self._send(200, json.dumps(body), "application/json")
            elif path == "/latest/meta-data/iam/security-credentials":
                self._send(200, role)
            elif path == "/latest/meta-data/iam/security-credentials/" + role:
                if key is None:
                    self._send(404, "no credentials yet")
                    return
                now = datetime.datetime.now(datetime.timezone.utc)
                body = {
                    "Code": "Success",
                    "Type": "AWS-HMAC",
                    "AccessKeyId": key["access_key_id"],
                    "SecretAccessKey": key["secret_access_key"],
                    "Token": "",
                    "LastUpdated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "Expiration": (now + datetime.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
                self._send(200, json.dumps(body), "application/json")
            else:
                self._send(404, "not found")

    return Handler


def serve(port, credentials_file, region):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler_for(credentials_file, region))
    server.serve_forever()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli_start(state_dir, credentials_file, region="us-east-1"):
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    if (state / "pid").exists():
        try:
            os.kill(int((state / "pid").read_text()), 0)
            print((state / "url").read_text().strip())
            return
        except OSError:
            pass
    port = free_port()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        serve(port, credentials_file, region)
        os._exit(0)
    url = f"http://127.0.0.1:{port}"
    (state / "pid").write_text(str(pid))
    (state / "url").write_text(url + "\n")
    print(url)


def cli_stop(state_dir):
    pid_file = Path(state_dir) / "pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text()), signal.SIGTERM)
        except OSError:
            pass
        pid_file.unlink()


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "start":
        cli_start(*sys.argv[2:5])
    elif len(sys.argv) == 3 and sys.argv[1] == "stop":
        cli_stop(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "serve":
        threading.Thread(target=serve, args=(int(sys.argv[2]), sys.argv[3], "us-east-1"), daemon=True).start()
        threading.Event().wait()
    else:
        sys.exit(__doc__)
