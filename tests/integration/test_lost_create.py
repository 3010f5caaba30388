# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A CreateAccessKey whose answer is lost: AWS made the key, the caller never saw it.

The fault proxy's kind ``lost`` forwards the request to the emulator, which makes the key, then drops the
connection without the answer. The module must not resend the request (that would make a second key), must
delete the key whose secret it never received, create one key again, and end with one new key in IAM: the
one in the store. A key another run made is never touched.
"""

import json
import re
from pathlib import Path

import yaml

import fault_proxy  # from tests/tools (pytest.ini pythonpath)

LOST_CREATE = fault_proxy.Burst("lost", 1, operations=("CreateAccessKey",))
TAGS = [{"Key": "managed-by", "Value": "observability.cloudwatch"}]


def _key_ids(iam, user):
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


def _lost_keys(proxy):
    """The access keys the emulator made whose answers the proxy dropped: (id, secret)."""
    found = []
    for body in proxy.lost_answers:
        text = body.decode()
        found.append((re.search(r"<AccessKeyId>(\w+)</AccessKeyId>", text).group(1), re.search(r"<SecretAccessKey>([^<]+)</SecretAccessKey>", text).group(1)))
    return found


def _task(name, module, args, proxy, **keywords):
    return dict(
        {
            "name": name,
            f"observability.cloudwatch.{module}": args,
            "register": name.replace(" ", "_"),
            "environment": {"AWS_URL": proxy.url, "AWS_ENDPOINT_URL": proxy.url},
        },
        **keywords,
    )


def test_a_lost_answer_to_create_access_key_leaves_one_new_key_the_stored_one(aws, ansible, tmp_path):
    iam = aws.client("iam")
    for user in ("lost-present", "lost-rotate", "lost-rotate-other", "lost-twice"):
        iam.create_user(UserName=user, Tags=TAGS)
    # A key of the user in the store, and a key another run made just now, which this run's store does not hold.
    setup = ansible.module("observability.cloudwatch.access_key", {"user_name": "lost-rotate", "access_key_store": f"file:{tmp_path}/rotate.json"})
    stored_before = setup["access_key_id"]
    other = iam.create_access_key(UserName="lost-rotate-other")["AccessKey"]["AccessKeyId"]
    before = {user: _key_ids(iam, user) for user in ("lost-present", "lost-rotate", "lost-rotate-other", "lost-twice")}

    cases = {
        "present": ("access_key", {"user_name": "lost-present", "state": "present"}, "lost-present"),
        "rotate": ("access_key", {"user_name": "lost-rotate", "state": "rotate"}, "lost-rotate"),
        "rotate beside another key": ("access_key", {"user_name": "lost-rotate-other", "state": "rotate"}, "lost-rotate-other"),
        "new user": ("agent_iam_user", {"name": "lost-new-user", "purpose": "server", "access_key_state": "present"}, "lost-new-user"),
    }
    stores = {"present": "present", "rotate": "rotate", "rotate beside another key": "other", "new user": "new"}
    proxies = {name: fault_proxy.FaultProxy(aws.url, [LOST_CREATE]) for name in cases}
    proxies["twice"] = fault_proxy.FaultProxy(aws.url, [fault_proxy.Burst("lost", 2, operations=("CreateAccessKey",))])
    for proxy in proxies.values():
        proxy.start()
    try:
        tasks = [
            _task(name, module, dict(args, access_key_store=f"file:{tmp_path}/{stores[name]}.json"), proxies[name])
            for name, (module, args, _user) in cases.items()
        ]
        twice_args = {"user_name": "lost-twice", "state": "present", "access_key_store": f"file:{tmp_path}/twice.json"}
        tasks.append(_task("twice", "access_key", twice_args, proxies["twice"], ignore_errors=True))
        play = tmp_path / "lost.yml"
        play.write_text(yaml.safe_dump([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], sort_keys=False))
        run = ansible.playbook(play)
    finally:
        for proxy in proxies.values():
            proxy.stop()

    for name, (_module, _args, user) in cases.items():
        proxy, result = proxies[name], run.result(name)
        assert proxy.forwarded("CreateAccessKey") == 2, (name, proxy.log)  # the lost one and one fresh create
        [(lost_id, lost_secret)] = _lost_keys(proxy)
        stored = json.loads(Path(tmp_path, f"{stores[name]}.json").read_text())
        keys = _key_ids(iam, user)
        new = set(keys) - set(before.get(user, {}))
        assert new == {stored["access_key_id"]}, (name, keys, stored["access_key_id"])
        assert keys[stored["access_key_id"]] == "Active"
        assert lost_id not in keys and lost_id != stored["access_key_id"]
        assert any(lost_id in w and "deactivated and deleted" in w for w in result["warnings"]), (name, result["warnings"])
        assert lost_secret not in run.output and lost_secret not in json.dumps(result)
        assert stored["secret_access_key"] not in json.dumps(result["warnings"])
        assert result["changed"] is True

    assert _key_ids(iam, "lost-rotate") == {stored_before: "Active", json.loads((tmp_path / "rotate.json").read_text())["access_key_id"]: "Active"}
    assert _key_ids(iam, "lost-rotate-other")[other] == "Active", "a key another run made is never touched"

    # Lost twice: both keys removed, nothing stored, and the error says to run again.
    failed = run.result("twice")
    assert failed["failed"] and proxies["twice"].forwarded("CreateAccessKey") == 2
    assert "got no answer twice" in failed["msg"] and "No key is left behind" in failed["msg"] and "run again" in failed["msg"]
    lost = _lost_keys(proxies["twice"])
    assert len(lost) == 2 and all(key_id in failed["msg"] for key_id, _secret in lost)
    assert not any(secret in run.output for _key_id, secret in lost)
    assert _key_ids(iam, "lost-twice") == {} and not (tmp_path / "twice.json").exists()
