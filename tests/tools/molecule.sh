#!/usr/bin/env bash
# Run the role's Molecule scenarios (extensions/molecule/) against podman containers and a local AWS.
#
#   tests/tools/molecule.sh [SCENARIO...]     # default: onprem upgrade absent rotation rollout site real_package
#   tests/tools/molecule.sh rotation rollout  # key rotation with rotate_keys; rollout, rollback and a host lost mid-run
#
# It prepares the host (tests/tools/podman-setup.sh: podman, runc, the cached Debian image), builds the test
# agent packages once into build/agent-package/, signs them with a throw-away GPG key (the role verifies the
# signature exactly as it verifies AWS's), starts the moto server and an instance-metadata stand-in on
# loopback, runs "molecule test" for each scenario, and stops what it started. Runs as root, no terminal.
# The scenario real_package downloads the official package: it runs only when AWS's bucket is reachable.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
STATE="$ROOT/build/molecule"
OLD_VERSION=1.300064.0b1337
NEW_VERSION=1.300069.0b1529
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(onprem upgrade absent rotation rollout site real_package)

log() { printf '[molecule.sh] %s\n' "$*"; }
started=$(date +%s)

export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1 TERM="${TERM:-dumb}"

tests/tools/podman-setup.sh

# --- packages, signed with a throw-away key ---------------------------------------------------------------
mkdir -p "$STATE"
for version in "$OLD_VERSION" "$NEW_VERSION"; do
    tests/fixtures/build-agent-package.sh "build/agent-package/$version" "$version" >/dev/null
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
    deb="build/agent-package/$version/amazon-cloudwatch-agent.deb"
    rm -f "$deb.sig"
    gpg --batch --quiet --detach-sign --output "$deb.sig" "$deb"
done
# A package whose signature does not match: the new package with the old package's signature.
mkdir -p build/agent-package/tampered
cp "build/agent-package/$NEW_VERSION/amazon-cloudwatch-agent.deb" build/agent-package/tampered/
cp "build/agent-package/$OLD_VERSION/amazon-cloudwatch-agent.deb.sig" build/agent-package/tampered/amazon-cloudwatch-agent.deb.sig
unset GNUPGHOME

# --- hardware the containers report -----------------------------------------------------------------------
# A directory mounted over /sys/devices/virtual gives a container the DMI data (dmi/id) of a chosen vendor, not
# that of this machine: virtual/qemu for on-premises hosts, virtual/ec2 for the host that stands for an EC2
# instance.
install -d "$STATE/virtual/qemu/dmi/id"
echo QEMU >"$STATE/virtual/qemu/dmi/id/sys_vendor"
install -d "$STATE/virtual/ec2/dmi/id"
echo "Amazon EC2" >"$STATE/virtual/ec2/dmi/id/sys_vendor"

# --- local AWS and instance metadata ----------------------------------------------------------------------
cleanup() {
    [ -z "${KEEP_LOCAL_AWS:-}" ] || return 0
    .venv/bin/python tests/tools/local_aws.py stop "$STATE/aws" || true
    .venv/bin/python tests/tools/imds_standin.py stop "$STATE/imds" || true
}
trap cleanup EXIT
[ -n "${KEEP_LOCAL_AWS:-}" ] || rm -f "$STATE/imds-credentials.json"
.venv/bin/python tests/tools/local_aws.py start "$STATE/aws" >/dev/null  # reuses a running one
# shellcheck disable=SC1091  # written by local_aws.py
. "$STATE/aws/env"
IMDS_URL="$(.venv/bin/python tests/tools/imds_standin.py start "$STATE/imds" "$STATE/imds-credentials.json" "$AWS_REGION")"
export CLOUDWATCH_TEST_STATE="$STATE" CLOUDWATCH_TEST_IMDS_URL="$IMDS_URL"
export CLOUDWATCH_TEST_OLD_VERSION="$OLD_VERSION" CLOUDWATCH_TEST_NEW_VERSION="$NEW_VERSION"
export CLOUDWATCH_TEST_PACKAGES="$ROOT/build/agent-package"
log "local AWS at $AWS_URL, instance metadata stand-in at $IMDS_URL"

# --- scenarios --------------------------------------------------------------------------------------------
failed=()
declare -A took
for scenario in "${SCENARIOS[@]}"; do
    if [ "$scenario" = real_package ]; then
        if ! curl -sfI --max-time 5 https://amazoncloudwatch-agent.s3.amazonaws.com/info/latest/CWAGENT_VERSION >/dev/null 2>&1; then
            log "SKIPPED real_package: it installs the official package from amazoncloudwatch-agent.s3.amazonaws.com," \
                "which this machine cannot reach (no internet); run 'tests/tools/molecule.sh real_package' where it can."
            continue
        fi
    fi
    t0=$(date +%s)
    log "scenario $scenario"
    # MOLECULE_COMMAND=converge (with KEEP_LOCAL_AWS=1) keeps the containers and the local AWS for debugging.
    if molecule "${MOLECULE_COMMAND:-test}" -s "$scenario" </dev/null; then
        took[$scenario]=$(($(date +%s) - t0))
        log "scenario $scenario passed in ${took[$scenario]}s"
    else
        took[$scenario]=$(($(date +%s) - t0))
        log "scenario $scenario FAILED after ${took[$scenario]}s"
        failed+=("$scenario")
    fi
done

log "done in $(($(date +%s) - started))s"
if [ ${#failed[@]} -gt 0 ]; then
    log "failed: ${failed[*]}"
    exit 1
fi
