# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback HTTP server laid out like AWS's CloudWatch agent bucket, signed with a throw-away key.

    python tests/tools/package_mirror.py DIR [--port N] [--versions V1,V2] [--latest V]
    python tests/tools/package_mirror.py start STATE_DIR DIR    # in the background; prints the URL; STATE_DIR/{pid,url}
    python tests/tools/package_mirror.py stop STATE_DIR

builds DIR (when it holds no info/latest/CWAGENT_VERSION yet) and serves it on 127.0.0.1 until interrupted (start:
until stop, DIR already laid out, as tests/tools/molecule-env.sh lays out build/agent-package):

    info/latest/CWAGENT_VERSION                                   the version "latest" resolves to
    <os>/<arch>/<version>/amazon-cloudwatch-agent.deb and .sig    the test agent package (build-agent-package.sh)
    assets/amazon-cloudwatch-agent.gpg                            the throw-away public key
    signing-key.fpr                                               its fingerprint, for cloudwatch_agent_gpg_fingerprint

The key is made in a private GNUPGHOME beside DIR (DIR.gnupg; ed25519, no passphrase; its gpg-agent is stopped once
the packages are signed): it signs nothing but these test packages. ``Mirror`` serves such a directory in a test
and records every path requested, so that the test can tell what was downloaded.
"""

import argparse
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
VERSIONS = ("1.300064.0b1337", "1.300069.0b1529")
PLATFORMS = (("debian", "amd64"),)


def gpg(home, *args, **kwargs):
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", "--quiet", *args], check=True, capture_output=True, **kwargs)


def make_key(home, name="observability.cloudwatch throw-away test key"):
    """A new signing key in home; its fingerprint."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    gpg(home, "--passphrase", "", "--quick-gen-key", name, "ed25519", "sign", "never")
    listing = gpg(home, "--with-colons", "--fingerprint").stdout.decode()
    return [line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:")][0]


def export_key(home):
    return gpg(home, "--armor", "--export").stdout


def stop_agent(home):
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], check=False, capture_output=True)


def sign(home, path):
    signature = Path(str(path) + ".sig")
    signature.unlink(missing_ok=True)
    gpg(home, "--detach-sign", "--output", str(signature), str(path))


def build(root, versions=VERSIONS, latest=None, platforms=PLATFORMS):
    """Lay out root like AWS's bucket; the signing key's fingerprint."""
    root = Path(root)
    home = root.parent / (root.name + ".gnupg")
    fingerprint = make_key(home)
    (root / "assets").mkdir(parents=True, exist_ok=True)
    (root / "assets" / "amazon-cloudwatch-agent.gpg").write_bytes(export_key(home))
    (root / "signing-key.fpr").write_text(fingerprint + "\n")
    for os_path, arch in platforms:
        for version in versions:
            out = root / os_path / arch / version
            env = dict(os.environ, ARCH=arch)
            subprocess.run(["bash", str(FIXTURES / "build-agent-package.sh"), str(out), version], check=True, capture_output=True, env=env)
            (out / "amazon-cloudwatch-agent-{0}.deb".format(version)).unlink()
            sign(home, out / "amazon-cloudwatch-agent.deb")
    stop_agent(home)
    set_latest(root, latest or versions[-1])
    return fingerprint


def set_latest(root, text):
    (Path(root) / "info" / "latest").mkdir(parents=True, exist_ok=True)
    (Path(root) / "info" / "latest" / "CWAGENT_VERSION").write_text(text + "\n")


class Mirror:
    """Serves root on 127.0.0.1 in a thread; ``requests`` lists the paths asked for, in order."""

    def __init__(self, root, port=0):
        self.root = str(root)
        self.requests = []
        mirror = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=mirror.root, **kwargs)

            def do_GET(self):
                mirror.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = "http://127.0.0.1:{0}".format(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def downloads(self):
        """The package files asked for (not the latest version or the key)."""
        return [path for path in self.requests if path.endswith((".deb", ".rpm", ".sig"))]


def cli_start(state_dir, root):
    """Serve root in a process of its own session, unless this state's mirror already serves it; print the URL."""
    state = Path(state_dir)
    state.mkdir(parents=True, exist_ok=True)
    root = str(Path(root).resolve())
    if running(state) and (state / "root").read_text() == root:
        print((state / "url").read_text().strip())
        return
    cli_stop(state)
    log = state / "log"
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, __file__, root], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    # The server prints its URL once it listens (a free port it chose itself).
    deadline = time.monotonic() + 30
    while not log.read_text().startswith("http://"):
        if server.poll() is not None or time.monotonic() > deadline:
            cli_stop(state)
            sys.exit("package mirror not started: " + log.read_text().strip())
        time.sleep(0.1)
    url = log.read_text().split()[0]
    (state / "pid").write_text(str(server.pid))
    (state / "root").write_text(root)
    (state / "url").write_text(url + "\n")
    print(url)


def running(state):
    try:
        os.kill(int((state / "pid").read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def cli_stop(state_dir):
    state = Path(state_dir)
    if running(state):
        os.killpg(int((state / "pid").read_text()), signal.SIGTERM)
    (state / "pid").unlink(missing_ok=True)


def main():
    if sys.argv[1:2] == ["start"] and len(sys.argv) == 4:
        return cli_start(*sys.argv[2:])
    if sys.argv[1:2] == ["stop"] and len(sys.argv) == 3:
        return cli_stop(sys.argv[2])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("root")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--versions", default=",".join(VERSIONS))
    parser.add_argument("--latest")
    args = parser.parse_args()
    root = Path(args.root)
    if not (root / "info" / "latest" / "CWAGENT_VERSION").exists():
        if shutil.which("dpkg-deb") is None:
            parser.error("building the mirror needs dpkg-deb")
        build(root, tuple(args.versions.split(",")), args.latest)
    mirror = Mirror(root, args.port)
    print("{0} serving {1}; fingerprint {2}".format(mirror.url, root, (root / "signing-key.fpr").read_text().strip()), flush=True)
    try:
        mirror.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
