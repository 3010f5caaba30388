#!/bin/sh
# ansible-test bootstraps pip in its virtual environments with a script it downloads from a host this
# network cannot reach. Put a stand-in in its cache that gets the same pip version from the standard
# library's ensurepip and the package index: 24.2 for ansible-test 2.19, 25.2 for 2.21.
set -eu
cache="${HOME}/.ansible/test/cache"
mkdir -p "$cache"
for version in 24.2 25.2; do
    cat > "$cache/get_pip_$(echo "$version" | tr . _).py" <<PY
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "pip==$version"])
PY
done
