# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret access key outside its store.

The playbooks that create, use and rotate access keys run at ``-vvvv --diff``, with the default
(human-readable) output, the task arguments shown and a log file: ``iam`` (on-premises server and
admin users, one key stored in SSM, an exporter user), ``publish_config`` with the admin user's key,
``rotate_keys`` (a new key for every user). After each run the test reads every secret from the stores
(the only place a secret may be); then it scans all the output and every file the runs wrote (the work
directory, ~/.ansible, /tmp and the checkout, files modified since the first run) for each secret,
also URL-quoted, JSON-escaped, base64-encoded and by its first or last 20 characters: zero occurrences.
The controller-side file stores must be mode 0600 and owned by the user who ran the playbook.
"""

import base64
import importlib.util
import json
import re
import os
import stat
import time
import urllib.parse
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SUMMARY = REPO / "build" / "security" / "secrets.json"
SSM_STORE = "/cloudwatch-keys/onprem-ssm"
MAX_SCANNED_BYTES = 4 * 1024 * 1024
SECRETS_CHECKED = 7  # three users' first keys, the admin user's key of one publish, the rotated keys of two server users and an exporter
KEYS_ROTATED = 3  # the admin user has no key between publishes: the two server users and the iam_user exporter are due


def _variables(store, store_key):
    return {
        "cloudwatch_iam_roles": [{"purpose": "server"}],
        "cloudwatch_iam_users": [
            {"name": "cw-secret-server", "purpose": "server", "access_key_store": f"file:{store}/server.json"},
            {"name": "cw-secret-ssm", "purpose": "server", "access_key_store": f"ssm:{SSM_STORE}", "kms_key_id": store_key},
            {"name": "cw-secret-admin", "purpose": "admin"},
        ],
        "cloudwatch_iam_exporters": [
            {"name": "cw-secret-exporter", "auth_method": "iam_user", "access_key_store": f"file:{store}/exporter.json",
             "log_group_names": ["/exporters/secret"]},
        ],
        "cloudwatch_iam_key_max_age_days": 0,
        "cloudwatch_publish_configs": [
            {"name": "AmazonCloudWatch-secrets", "config": {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}}
        ],
        "cloudwatch_publish_credentials": "admin_user",
        "cloudwatch_publish_admin_user": "cw-secret-admin",
    }


def _read_secrets(aws, store):
    """Every secret now in a store: {secret: where}."""
    found = {}
    for path in sorted(store.glob("*.json")):
        found[json.loads(path.read_text())["secret_access_key"]] = str(path)
    value = aws.client("ssm").get_parameter(Name=SSM_STORE, WithDecryption=True)["Parameter"]["Value"]
    found[json.loads(value)["secret_access_key"]] = f"ssm:{SSM_STORE}"
    return found


def _watch_publish_key_store(process, temporary):
    """The secret of the key a running publish keeps in its private directory (``*.cloudwatch-publish``)."""
    found = {}
    while process.poll() is None and not found:
        for path in temporary.glob("*.cloudwatch-publish/admin-key.json"):
            try:
                found[json.loads(path.read_text())["secret_access_key"]] = str(path)
            except (OSError, ValueError):
                pass  # not written in full yet
        time.sleep(0.05)
    assert found, "the publish's key store was never seen"
    return found


def _forms(secret):
    return {
        secret,
        urllib.parse.quote(secret, safe=""),
        json.dumps(secret)[1:-1],
        secret.replace("/", "\\/"),
        base64.b64encode(secret.encode()).decode(),
        secret[:20],
        secret[-20:],
    }


def _written_files(roots, since, skip):
    seen = set()
    for root in roots:
        for directory, dirnames, filenames in os.walk(root, onerror=lambda e: None):
            dirnames[:] = [d for d in dirnames if os.path.join(directory, d) not in skip and d not in (".git", ".venv")]
            for name in filenames:
                path = os.path.join(directory, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                if path in skip or not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SCANNED_BYTES:
                    continue
                if max(info.st_mtime, info.st_ctime) >= since and path not in seen:
                    seen.add(path)
                    yield path


def test_no_secret_leaves_its_store(aws, ansible, tmp_path, store_key, private_tmp):
    store = tmp_path / "keys"
    store.mkdir(mode=0o700)
    log = tmp_path / "ansible.log"
    variables = tmp_path / "vars.json"
    variables.write_text(json.dumps(_variables(store, store_key)))
    env = {
        "ANSIBLE_STDOUT_CALLBACK": "default",
        "ANSIBLE_LOG_PATH": str(log),
        "ANSIBLE_DISPLAY_ARGS_TO_STDOUT": "true",
        "ANSIBLE_NOCOLOR": "true",
    }
    started = time.time() - 1
    outputs, secrets, keys_rotated = [], {}, 0
    for playbook in ("iam.yml", "publish_config.yml", "rotate_keys.yml"):
        before = set(secrets)
        args = ("-vvvv", "-e", f"@{variables}")
        if playbook == "publish_config.yml":
            # The admin user's key of this publish lives only during the run: read it from its store meanwhile.
            # Its own temporary directory: other tests may publish at the same time.
            process = ansible.start(REPO / "playbooks" / playbook, env=dict(env, TMPDIR=str(private_tmp)), diff=True, args=args)
            secrets.update(_watch_publish_key_store(process, private_tmp))
            run = ansible.finish(process)
        else:
            run = ansible.playbook(REPO / "playbooks" / playbook, env=env, diff=True, args=args)
        outputs.append((playbook, run.output))
        secrets.update(_read_secrets(aws, store))
        if playbook == "rotate_keys.yml":
            keys_rotated = len(set(secrets) - before)
    assert keys_rotated == KEYS_ROTATED, "rotate_keys made a new key for each server user and iam_user exporter"
    assert len(secrets) == SECRETS_CHECKED, sorted(secrets.values())

    leaks = []
    for playbook, text in outputs:
        for secret, where in secrets.items():
            if any(form in text for form in _forms(secret)):
                leaks.append(f"output of {playbook}: the secret stored in {where}")
    skip = {str(store)}
    roots = [tmp_path, Path.home() / ".ansible", Path("/tmp"), REPO]
    scanned = 0
    for path in _written_files(roots, started, skip):
        try:
            content = Path(path).read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        scanned += 1
        for secret, where in secrets.items():
            if any(form in content for form in _forms(secret)):
                leaks.append(f"{path}: the secret stored in {where}")
    assert log.stat().st_size > 0 and scanned > 0
    # The scan can find what it looks for: each file store holds its current secret.
    for secret, where in _read_secrets(aws, store).items():
        if where.startswith(str(store)):
            assert any(form in Path(where).read_text() for form in _forms(secret)), where
    assert not leaks, "secrets outside their store:\n" + "\n".join(leaks)

    for path in store.glob("*.json"):
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o600, f"{path} is {oct(stat.S_IMODE(info.st_mode))}, not 0600"
        assert info.st_uid == os.getuid()

    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(
        json.dumps(
            {
                "playbooks": [playbook for playbook, _text in outputs],
                "secrets_checked": len(secrets),
                "keys_rotated": keys_rotated,
                "output_bytes_scanned": sum(len(text) for _playbook, text in outputs),
                "files_scanned": scanned,
                "occurrences_found": len(leaks),
            },
            indent=2,
        )
        + "\n"
    )


def _test_module(name):
    spec = importlib.util.spec_from_file_location(f"cloudwatch_{name}", Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _molecule(scenario, name):
    return yaml.safe_load((REPO / "extensions" / "molecule" / scenario / name).read_text())


def test_security_doc_figures_match_the_suite(tmp_path):
    """docs/security.md states what the suite asserts; recompute each figure from the tests' own tables."""
    bad_input = _test_module("test_bad_input")
    faults = _test_module("test_faults")
    least_privilege = _test_module("test_least_privilege")
    modules = faults._module_cases(tmp_path)
    # The Molecule scenarios' figures, from their files (their verify.yml asserts them in `make molecule`).
    rollout = [task for play in _molecule("rollout", "converge.yml") for task in play.get("tasks", [])]
    bad_run = next(task for task in rollout if task["name"] == "Roll it out one host at a time, stopping at the first failure")
    commands = [task.get("ansible.builtin.command", {}).get("argv") for task in rollout]
    expected = {
        "Bad inputs tried": len(bad_input.CASES),
        # The kinds of the bursts in module runs: all but the targeted "error" and "lost" (test_lost_create.py).
        "Fault kinds injected": len(set(faults.fault_proxy.KINDS) - {"error", "lost"}),
        "Faults injected into module runs": sum(b.count for services, *_rest in modules.values() for b in faults.plan_for(services)),
        "Identities evaluated": len(least_privilege.IDENTITIES),
        "Access decisions checked": sum(len(least_privilege._rows_for(roles)) for roles in least_privilege.IDENTITIES.values()),
        "Secrets checked": SECRETS_CHECKED,
        "Keys rotated": KEYS_ROTATED,
        "Occurrences of secrets found": 0,
        "Hosts moved to a new key (Molecule)": len(_molecule("rotation", "molecule.yml")["platforms"]),
        "Hosts in the configuration rollout (Molecule)": len(_molecule("rollout", "molecule.yml")["platforms"]),
        "Hosts a bad configuration reached": int(re.search(r"cloudwatch_serial=(\d+)", bad_run["ansible.builtin.command"]["argv"]).group(1)),
        "Hosts taken away in the middle of a run": sum(1 for argv in commands if isinstance(argv, list) and argv[:2] == ["podman", "kill"]),
    }
    text = (REPO / "docs" / "security.md").read_text()
    stated = {name: int(value) for name, value in re.findall(r"^\| ([A-Z][^|]+?) \| (\d+) \|$", text, re.MULTILINE)}
    assert stated == expected
    assert f"{len(bad_input.CASES)} cases" in text
