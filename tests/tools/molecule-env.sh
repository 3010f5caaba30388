#!/usr/bin/env bash
# What the Molecule scenarios need on this machine: each scenario's create runs "up" for the images its
# platforms name, its destroy runs "down" (extensions/molecule/shared/create.yml and destroy.yml).
#
#   tests/tools/molecule-env.sh up [IMAGE...]   # as root; AWS_URL names the local AWS's fixed loopback port
#   tests/tools/molecule-env.sh down
#
# up, idempotent:
#   - podman and each IMAGE (tests/tools/podman-setup.sh builds only an image that is missing);
#   - the checkout linked as observability.cloudwatch under build/collections, where Molecule's Ansible looks;
#   - the test agent packages of both test versions in build/agent-package/, deb and RPM, built on every run (a
#     kept package could hold an older test agent), signed with a throw-away GPG key made once, and a tampered copy;
#   - the new version's arm64 package, signed alike, laid out like AWS's bucket in build/agent-package/ with the
#     key and the latest version (debian/arm64/VERSION/, assets/, info/latest/, signing-key.fpr) and served on
#     loopback by tests/tools/package_mirror.py, so that arm64 hosts take the role's download path;
#   - the DMI directories the containers mount over /sys/devices/virtual (virtual/qemu, virtual/ec2);
#   - the local AWS (moto) on AWS_URL's port and the instance-metadata stand-in, each reused when this checkout
#     already runs it; a fresh local AWS forgets the stand-in's credentials, which named a key of the old one.
# down: stops them and forgets the stand-in's credentials. The local AWS's port is fixed, so at most one runs
# for Molecule on this machine; a server left by an interrupted run is stopped by the next create or destroy.
#
# The state, read by the scenarios' variables (extensions/molecule/config.yml), is build/molecule/: old-version,
# new-version, signing-key.{asc,fpr}, virtual/, aws/, imds/, mirror/ (its url), and the scenarios' key stores.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
STATE="$ROOT/build/molecule"
PACKAGES="$ROOT/build/agent-package"
PYTHON="$ROOT/.venv/bin/python"
OLD_VERSION=1.300064.0b1337
NEW_VERSION=1.300069.0b1529
REGION=us-east-1

log() { printf '[molecule-env] %s\n' "$*"; }
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; }

local_aws_running() {
    [ -s "$STATE/aws/pid" ] && kill -0 "$(cat "$STATE/aws/pid")" 2>/dev/null
}

down() {
    "$PYTHON" "$ROOT/tests/tools/local_aws.py" stop "$STATE/aws"
    "$PYTHON" "$ROOT/tests/tools/imds_standin.py" stop "$STATE/imds"
    "$PYTHON" "$ROOT/tests/tools/package_mirror.py" stop "$STATE/mirror"
    rm -f "$STATE/imds-credentials.json"
    log "local AWS, instance-metadata stand-in and package mirror stopped"
}

packages() {
    local version package
    for version in "$OLD_VERSION" "$NEW_VERSION"; do
        "$ROOT/tests/fixtures/build-agent-package.sh" "$PACKAGES/$version" "$version" >/dev/null
        FORMAT=rpm "$ROOT/tests/fixtures/build-agent-package.sh" "$PACKAGES/$version" "$version" >/dev/null
    done
    export GNUPGHOME="$STATE/gnupg"
    if [ ! -s "$STATE/signing-key.asc" ]; then
        rm -rf "$GNUPGHOME"
        install -d -m 0700 "$GNUPGHOME"
        gpg --batch --quiet --passphrase '' --quick-gen-key 'observability.cloudwatch test signing key' rsa2048 sign never
        gpg --batch --armor --export >"$STATE/signing-key.asc"
    fi
    gpg --batch --with-colons --fingerprint | awk -F: '/^fpr:/ {print $10; exit}' >"$STATE/signing-key.fpr"
    for version in "$OLD_VERSION" "$NEW_VERSION"; do
        for package in "$PACKAGES/$version"/amazon-cloudwatch-agent.{deb,rpm}; do
            rm -f "$package.sig"
            gpg --batch --quiet --detach-sign --output "$package.sig" "$package"
        done
    done
    gpgconf --kill gpg-agent  # signing started one: it must not outlive the scenario
    unset GNUPGHOME
    # A package whose signature does not match: the old package with the new package's signature (hosts run the
    # new version, so installing the old one is a change the role must verify first).
    mkdir -p "$PACKAGES/tampered"
    cp "$PACKAGES/$OLD_VERSION/amazon-cloudwatch-agent.deb" "$PACKAGES/tampered/"
    cp "$PACKAGES/$NEW_VERSION/amazon-cloudwatch-agent.deb.sig" "$PACKAGES/tampered/amazon-cloudwatch-agent.deb.sig"
    echo "$OLD_VERSION" >"$STATE/old-version"
    echo "$NEW_VERSION" >"$STATE/new-version"
}

# The bucket layout an arm64 host downloads from (after packages: it signs with the same key).
mirror_packages() {
    local dir="$PACKAGES/debian/arm64/$NEW_VERSION"
    ARCH=arm64 "$ROOT/tests/fixtures/build-agent-package.sh" "$dir" "$NEW_VERSION" >/dev/null
    rm -f "$dir/amazon-cloudwatch-agent-$NEW_VERSION.deb" "$dir/amazon-cloudwatch-agent.deb.sig"
    GNUPGHOME="$STATE/gnupg" gpg --batch --quiet --detach-sign --output "$dir/amazon-cloudwatch-agent.deb.sig" \
        "$dir/amazon-cloudwatch-agent.deb"
    GNUPGHOME="$STATE/gnupg" gpgconf --kill gpg-agent
    install -d "$PACKAGES/assets" "$PACKAGES/info/latest"
    cp "$STATE/signing-key.asc" "$PACKAGES/assets/amazon-cloudwatch-agent.gpg"
    cp "$STATE/signing-key.fpr" "$PACKAGES/signing-key.fpr"
    echo "$NEW_VERSION" >"$PACKAGES/info/latest/CWAGENT_VERSION"
}

up() {
    local images=() port
    [ $# -eq 0 ] || for image in "$@"; do images+=(--image "$image"); done
    case "${AWS_URL:-}" in
    http://127.0.0.1:[0-9]*) port="${AWS_URL##*:}" ;;
    *)
        echo "AWS_URL must name the local AWS as http://127.0.0.1:PORT (extensions/molecule/config.yml sets it)," \
            "not '${AWS_URL:-}'" >&2
        exit 2
        ;;
    esac
    started=$(date +%s)
    "$ROOT/tests/tools/podman-setup.sh" "${images[@]}"
    mkdir -p "$STATE" "$ROOT/build/collections/ansible_collections/observability"
    ln -sfn "$ROOT" "$ROOT/build/collections/ansible_collections/observability/cloudwatch"
    packages
    mirror_packages

    # A directory mounted over /sys/devices/virtual gives a container the DMI data (dmi/id) of a chosen vendor,
    # not that of this machine: virtual/qemu for on-premises hosts, virtual/ec2 for the host standing for an
    # EC2 instance.
    install -d "$STATE/virtual/qemu/dmi/id" "$STATE/virtual/ec2/dmi/id"
    echo QEMU >"$STATE/virtual/qemu/dmi/id/sys_vendor"
    echo "Amazon EC2" >"$STATE/virtual/ec2/dmi/id/sys_vendor"

    # A server on another port (AWS_URL changed since it started) is not the one the scenario talks to.
    if local_aws_running && [ "$(cat "$STATE/aws/url")" != "$AWS_URL" ]; then
        "$PYTHON" "$ROOT/tests/tools/local_aws.py" stop "$STATE/aws"
    fi
    local_aws_running || rm -f "$STATE/imds-credentials.json"
    "$PYTHON" "$ROOT/tests/tools/local_aws.py" start "$STATE/aws" "$port" >/dev/null
    imds_url="$("$PYTHON" "$ROOT/tests/tools/imds_standin.py" start "$STATE/imds" "$STATE/imds-credentials.json" "$REGION")"
    mirror_url="$("$PYTHON" "$ROOT/tests/tools/package_mirror.py" start "$STATE/mirror" "$PACKAGES")"
    log "local AWS at $AWS_URL, instance-metadata stand-in at $imds_url, package mirror at $mirror_url;" \
        "ready in $(($(date +%s) - started))s"
}

case "${1:-}" in
up) shift; up "$@" ;;
down) [ $# -eq 1 ] || { usage >&2; exit 2; }; down ;;
*) usage >&2; exit 2 ;;
esac
