# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No module result holds a secret access key, in any state.

Every module that can create a key (``agent_iam_user``, ``exporter_access`` with ``auth_method=iam_user``,
``access_key``) runs in each of its states: ``present`` creating a key, ``rotate`` creating a key (the modules
that have it), ``absent``, and check mode of each, with ``--diff`` and at ``-vvv``, no ``no_log`` anywhere. Every
key IAM holds after the creating run has its secret in a store; each secret is then looked for in every task's
full result (the JSON Ansible returns) and in all the output of both runs, raw, base64 (standard and URL-safe, at
each byte alignment), JSON-escaped and URL-quoted: zero hits.
"""

import base64
import json
import urllib.parse

import yaml

SERVER_USER = "cw-results-server"
EXPORTER_USER = "cw-results-exporter"
KEYS_USER = "cw-results-keys"
AGENT_USER = "observability.cloudwatch.agent_iam_user"
EXPORTER = "observability.cloudwatch.exporter_access"
ACCESS_KEY = "observability.cloudwatch.access_key"


def _creating_tasks(store):
    """(name, module, args): each state that creates a key, its check mode first. exporter_access has no rotate."""
    server = {"name": SERVER_USER, "purpose": "server"}
    exporter = {"name": EXPORTER_USER, "auth_method": "iam_user", "access_key_store": f"file:{store}/exporter.json", "data_types": ["traces"]}
    keys = {"user_name": KEYS_USER}
    steps = [
        ("agent_iam_user present", AGENT_USER, dict(server, access_key_state="present", access_key_store=f"file:{store}/server-1.json")),
        ("agent_iam_user rotate", AGENT_USER, dict(server, access_key_state="rotate", access_key_store=f"file:{store}/server-2.json")),
        ("exporter_access present", EXPORTER, exporter),
        ("access_key present", ACCESS_KEY, dict(keys, state="present", access_key_store=f"file:{store}/keys-1.json")),
        ("access_key rotate", ACCESS_KEY, dict(keys, state="rotate", max_age_days=0, access_key_store=f"file:{store}/keys-2.json")),
    ]
    return _with_check_mode(steps)


def _absent_tasks(store):
    """Each module's absent, with the store holding the user's newest key (its record is deleted too)."""
    absent = {"state": "absent"}
    steps = [
        ("agent_iam_user absent", AGENT_USER, dict(absent, name=SERVER_USER, purpose="server", access_key_store=f"file:{store}/server-2.json")),
        ("exporter_access absent", EXPORTER, dict(absent, name=EXPORTER_USER, auth_method="iam_user", access_key_store=f"file:{store}/exporter.json")),
        ("access_key absent", ACCESS_KEY, dict(absent, user_name=KEYS_USER, access_key_store=f"file:{store}/keys-2.json")),
    ]
    return _with_check_mode(steps)


def _with_check_mode(steps):
    tasks = []
    for name, module, args in steps:
        tasks.append({"name": f"{name} (check mode)", module: args, "check_mode": True, "register": "outcome"})
        tasks.append({"name": name, module: args, "register": "outcome"})
    return tasks


def _run(ansible, tmp_path, name, tasks):
    """One run at -vvv with --diff: (every task's result by name, all the output)."""
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False))
    run = ansible.playbook(path, diff=True, args=("-vvv",))
    # At -vvv the report follows Ansible's own lines.
    report, _end = json.JSONDecoder().raw_decode(run.output[run.output.index('{"custom_stats"'):])
    results = {task["task"]["name"]: task["hosts"]["localhost"] for play in report["plays"] for task in play["tasks"]}
    assert list(results) == [task["name"] for task in tasks]
    assert not any(result.get("failed") for result in results.values()), results
    return results, run.output


def _base64_forms(secret):
    """The secret's base64 characters wherever it starts in an encoded text (3 byte alignments, 2 alphabets)."""
    raw = secret.encode()
    forms = set()
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        # Only the characters made of the secret's bits alone: skip the prefix's, drop the last partial one.
        inner = encoded[-(-8 * offset // 6):(8 * (offset + len(raw))) // 6]
        forms |= {inner, inner.replace("+", "-").replace("/", "_")}
    return forms


def forms(secret):
    return {
        secret,
        json.dumps(secret)[1:-1],
        secret.replace("/", "\\/"),
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote(secret),
        urllib.parse.quote_plus(secret),
    } | _base64_forms(secret)


def hits(text, secrets):
    """The stores whose secret appears, in any form, in ``text``."""
    return sorted(where for secret, where in secrets.items() if any(form in text for form in forms(secret)))


def test_the_forms_are_found_wherever_the_secret_sits():
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    wrapped = json.dumps({"result": {"note": "x" * 7, "key": secret}})
    for text in (wrapped, base64.b64encode(wrapped.encode()).decode(), base64.urlsafe_b64encode(("ab" + wrapped).encode()).decode(),
                 json.dumps(wrapped), urllib.parse.quote(wrapped)):
        assert hits(text, {secret: "s"}) == ["s"], text
    assert hits(wrapped.replace(secret, secret[:-1]), {secret: "s"}) == []


def test_no_module_result_holds_a_secret_in_any_state(aws, ansible, tmp_path):
    store = tmp_path / "keys"
    store.mkdir(mode=0o700)
    iam = aws.client("iam")
    iam.create_user(UserName=KEYS_USER)

    created, created_output = _run(ansible, tmp_path, "create", _creating_tasks(store))
    secrets = {}
    for path in sorted(store.glob("*.json")):
        record = json.loads(path.read_text())
        secrets[record["secret_access_key"]] = path.name
    # Every key IAM holds now was made by this run, and its secret is in hand: none escapes the scan.
    in_iam = {k["AccessKeyId"] for user in (SERVER_USER, EXPORTER_USER, KEYS_USER) for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    in_stores = {json.loads(path.read_text())["access_key_id"] for path in store.glob("*.json")}
    assert in_iam == in_stores and len(secrets) == 5, (in_iam, in_stores)

    removed, removed_output = _run(ansible, tmp_path, "absent", _absent_tasks(store))
    assert all(result["changed"] for result in removed.values())
    assert [u["UserName"] for u in iam.list_users()["Users"]] == [KEYS_USER]
    assert iam.list_access_keys(UserName=KEYS_USER)["AccessKeyMetadata"] == []
    assert sorted(path.name for path in store.glob("*.json")) == ["keys-1.json", "server-1.json"], "absent deleted the named stores"

    leaks = []
    for name, result in {**created, **removed}.items():
        found = hits(json.dumps(result), secrets)
        leaks += [f"result of {name!r}: the secret stored in {where}" for where in found]
    for run, output in (("create", created_output), ("absent", removed_output)):
        leaks += [f"output of the {run} run: the secret stored in {where}" for where in hits(output, secrets)]
    assert not leaks, "secrets in module results or output:\n" + "\n".join(leaks)
    # What a run that creates a key returns instead: its id (check mode creates none).
    assert sorted(result["access_key_id"] for result in created.values() if "access_key_id" in result) == sorted(in_iam)
    assert not [name for name, result in created.items() if "check mode" in name and "access_key_id" in result]
