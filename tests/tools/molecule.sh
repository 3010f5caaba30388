#!/usr/bin/env bash
# Run the role's Molecule scenarios (extensions/molecule/) one after the other, with a timing line for each.
#
#   tests/tools/molecule.sh [SCENARIO...]     # default: onprem upgrade absent rotation rollout site dnf_family
#                                             #   zypper_family arm64 real_package
#   tests/tools/molecule.sh rotation rollout  # key rotation with rotate_keys; rollout, rollback and a host lost mid-run
#
# Each scenario prepares what it needs itself ("molecule test -s onprem" alone works the same): see
# extensions/molecule/config.yml. The scenario real_package downloads the official package: it runs only when
# AWS's bucket is reachable. MOLECULE_COMMAND=converge keeps the containers and the local AWS for debugging
# ("molecule destroy -s SCENARIO" removes them). Runs as root, no terminal.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(onprem upgrade absent rotation rollout site dnf_family zypper_family arm64 real_package)

log() { printf '[molecule.sh] %s\n' "$*"; }
started=$(date +%s)
export PATH="$ROOT/.venv/bin:$PATH"
export ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1 TERM="${TERM:-dumb}"

failed=()
for scenario in "${SCENARIOS[@]}"; do
    if [ "$scenario" = real_package ] &&
        ! curl -sfI --max-time 5 https://amazoncloudwatch-agent.s3.amazonaws.com/info/latest/CWAGENT_VERSION >/dev/null 2>&1; then
        log "SKIPPED real_package: it installs the official package from amazoncloudwatch-agent.s3.amazonaws.com," \
            "which this machine cannot reach (no internet); run 'molecule test -s real_package' where it can."
        continue
    fi
    t0=$(date +%s)
    log "scenario $scenario"
    if molecule "${MOLECULE_COMMAND:-test}" -s "$scenario" </dev/null; then
        log "scenario $scenario passed in $(($(date +%s) - t0))s"
    else
        log "scenario $scenario FAILED after $(($(date +%s) - t0))s"
        failed+=("$scenario")
    fi
done

log "done in $(($(date +%s) - started))s"
if [ ${#failed[@]} -gt 0 ]; then
    log "failed: ${failed[*]}"
    exit 1
fi
