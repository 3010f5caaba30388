#!/usr/bin/env bash
# The embedded demo: a local AWS (moto server), two local hosts (podman containers booting systemd, one
# standing for an EC2 instance, one for an on-premises server), then the collection's site playbook against
# them, then the status report. Everything stays up, so a second run reports no change.
#
#   tests/tools/demo.sh          # make demo
#   tests/tools/demo.sh clean    # make demo-clean: stop and remove what the demo started
#
# State lives in build/demo/. Runs as root, no terminal needed.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DEMO="$ROOT/build/demo"
IMAGE="${IMAGE:-localhost/cloudwatch-test-debian:bookworm}"
HOSTS=(cloudwatch-demo-ec2 cloudwatch-demo-onprem)
AGENT_VERSION=1.300069.0b1529

export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/build/collections"
export ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=false ANSIBLE_LOCALHOST_WARNING=false
export ANSIBLE_PIPELINING=true ANSIBLE_HOST_KEY_CHECKING=false ANSIBLE_DEPRECATION_WARNINGS=false

say() { printf '\n==> %s\n' "$*"; }

clean() {
    say "Removing the demo: containers, local AWS, instance metadata stand-in"
    for host in "${HOSTS[@]}"; do
        podman rm -f -t 5 "$host" >/dev/null 2>&1 || true
    done
    python tests/tools/local_aws.py stop "$DEMO/aws" || true
    python tests/tools/imds_standin.py stop "$DEMO/imds" >/dev/null 2>&1 || true
    rm -rf "$DEMO"
    echo
    echo "Demo removed: no container, no local AWS left. 'make demo' starts it again from scratch."
}

if [ "${1:-}" = clean ]; then
    clean
    exit 0
fi

started=$(date +%s)
mkdir -p "$DEMO"

say "Preparing podman and the Debian image (cached after the first run)"
tests/tools/podman-setup.sh

say "Building the test agent package $AGENT_VERSION (a stand-in for AWS's, installed as an air-gapped file)"
if [ ! -s "$DEMO/package/amazon-cloudwatch-agent.deb" ]; then
    tests/fixtures/build-agent-package.sh "$DEMO/package" "$AGENT_VERSION" >/dev/null
fi
sha256="$(sha256sum "$DEMO/package/amazon-cloudwatch-agent.deb" | cut -d' ' -f1)"

say "Starting the local AWS (moto server; reused when it is already up)"
python tests/tools/local_aws.py start "$DEMO/aws"
# shellcheck disable=SC1091  # written by local_aws.py
. "$DEMO/aws/env"

# The EC2 host's instance metadata: a stand-in serving the temporary credentials of CloudWatchAgentServerRole,
# as the real service serves an instance profile's.
if [ ! -s "$DEMO/imds-credentials.json" ]; then
    python - "$DEMO/imds-credentials.json" <<'PY'
import json, os, sys
import boto3
sts = boto3.client("sts", endpoint_url=os.environ["AWS_URL"], region_name=os.environ["AWS_REGION"])
account = sts.get_caller_identity()["Account"]
creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/CloudWatchAgentServerRole",
                        RoleSessionName="cloudwatch-demo-ec2", DurationSeconds=43200)["Credentials"]
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
with os.fdopen(fd, "w") as handle:
    json.dump({"access_key_id": creds["AccessKeyId"], "secret_access_key": creds["SecretAccessKey"],
               "session_token": creds["SessionToken"]}, handle)
PY
fi
IMDS_URL="$(python tests/tools/imds_standin.py start "$DEMO/imds" "$DEMO/imds-credentials.json" "$AWS_REGION")"
echo "instance metadata stand-in at $IMDS_URL"

say "Starting the two hosts (podman containers with systemd)"
for host in "${HOSTS[@]}"; do
    if podman container exists "$host"; then
        [ "$(podman inspect -f '{{.State.Running}}' "$host")" = true ] || podman start "$host" >/dev/null
        echo "$host: already there"
    else
        podman run -d --name "$host" --hostname "$host" --systemd=always --network host "$IMAGE" /sbin/init >/dev/null
        echo "$host: started"
    fi
done

export CLOUDWATCH_DEMO_DIR="$DEMO" CLOUDWATCH_DEMO_IMDS_URL="$IMDS_URL"
export CLOUDWATCH_DEMO_CONFIG="$ROOT/examples/demo/cloudwatch-agent.json"
export CLOUDWATCH_DEMO_AGENT_VERSION="$AGENT_VERSION" CLOUDWATCH_DEMO_AGENT_SHA256="$sha256"
INVENTORY="$ROOT/examples/demo/inventory"

say "Preparing the hosts (the test package's endpoints, a log file to collect)"
ansible-playbook -i "$INVENTORY" examples/demo/prepare.yml >"$DEMO/prepare.log" 2>&1 || { cat "$DEMO/prepare.log"; exit 1; }
echo "done (log: build/demo/prepare.log)"

say "Running observability.cloudwatch.site: IAM roles and user, configuration published, agents installed and started"
if ! ansible-playbook -i "$INVENTORY" observability.cloudwatch.site -e cloudwatch_serial=100% | tee "$DEMO/site.log"; then
    echo "site failed (log: build/demo/site.log)"
    exit 1
fi
changed="$(awk '/^PLAY RECAP/ {recap=1; next} recap && /changed=/ {
    for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { split($i, kv, "="); sum += kv[2] } }
    END { print sum + 0 }' "$DEMO/site.log")"

say "Status report"
ansible-playbook -i "$INVENTORY" observability.cloudwatch.status -e cloudwatch_status_dir="$DEMO" >"$DEMO/status.log" 2>&1 \
    || { cat "$DEMO/status.log"; exit 1; }
cat "$DEMO/cloudwatch-status.txt"
echo "HTML report: build/demo/cloudwatch-status.html (open it in any browser; no server needed)"

echo
if [ "$changed" -eq 0 ]; then
    echo "site changed nothing this time: changed=0 on every host (the demo was already in place)."
else
    echo "site made $changed changes (run 'make demo' again: it reports changed=0)."
fi
echo "Demo finished in $(($(date +%s) - started))s. The local AWS ($AWS_URL) and the containers ${HOSTS[*]} are still up."
echo "Remove them with: make demo-clean"
