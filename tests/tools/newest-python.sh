#!/bin/sh
# Prints the path of the Python the default environment is made from: the current ansible-core needs
# Python 3.12 or later, which Debian 12 does not ship. pyenv's 3.13, then its 3.12, then either on PATH.
set -u
for minor in 3.13 3.12; do
    if command -v pyenv >/dev/null 2>&1; then
        version=$(pyenv versions --bare 2>/dev/null | grep -E "^${minor}\.[0-9]+$" | sort -t. -k3,3n | tail -n 1)
        if [ -n "$version" ] && [ -x "$(pyenv prefix "$version")/bin/python$minor" ]; then
            echo "$(pyenv prefix "$version")/bin/python$minor"
            exit 0
        fi
    fi
    if "python$minor" -c '' >/dev/null 2>&1; then
        command -v "python$minor"
        exit 0
    fi
done
echo "no Python 3.13 or 3.12 found: install one with pyenv (pyenv install 3.13.0) or put python3.13 on PATH" >&2
exit 1
