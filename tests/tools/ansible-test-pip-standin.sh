#!/bin/sh
# ansible-test bootstraps pip in its virtual environments with a script it downloads from a host this
# network cannot reach. Put a stand-in in its cache that gets the same pip version from the standard
# library's ensurepip and the package index.
set -eu
cache="${HOME}/.ansible/test/cache"
mkdir -p "$cache"
cat > "$cache/get_pip_24_2.py" <<'PY'
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "pip==24.2"])
PY
