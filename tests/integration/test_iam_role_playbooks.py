# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The iam role and the playbooks that drive it (iam, rotate_keys), against the local AWS emulator."""

import json
import os
import stat

SERVER_ROLE = "CloudWatchAgentServerRole"


def role_names(aws):
    return sorted(r["RoleName"] for r in aws.client("iam").list_roles()["Roles"])


def test_iam_playbook_without_variables_creates_the_server_role_and_nothing_else(ansible, aws, iam_snapshot):
    empty = iam_snapshot()
    checked = ansible.playbook("observability.cloudwatch.iam", check=True)
    assert checked.stats["localhost"]["changed"] == 1
    assert iam_snapshot() == empty, "check mode created something"

    first = ansible.playbook("observability.cloudwatch.iam")
    assert first.stats["localhost"]["changed"] == 1
    state = iam_snapshot()
    assert list(state["roles"]) == [SERVER_ROLE]
    assert state["instance_profiles"] == {SERVER_ROLE: [SERVER_ROLE]}
    assert state["users"] == {}
    assert any(p.endswith("/CloudWatchAgentServerPolicy") for p in state["roles"][SERVER_ROLE]["policies"])

    again = ansible.playbook("observability.cloudwatch.iam")
    assert again.stats["localhost"]["changed"] == 0
    assert iam_snapshot() == state


def fleet_vars(tmp_path):
    return {
        "cloudwatch_iam_roles": [{"purpose": "server"}, {"purpose": "admin", "instance_profile": False}],
        "cloudwatch_iam_users": [
            {"name": "cw-onprem", "access_key_store": f"file:{tmp_path}/cw-onprem.json"},
            # No key and no store: an admin user gets a key only during a publish.
            {"name": "cw-admin", "purpose": "admin"},
        ],
        "cloudwatch_iam_exporters": [
            {"name": "db-exporter", "trusted_role_arns": ["arn:aws:iam::210987654321:role/exporter"], "external_id": "x-123",
             "log_group_names": ["/exporters/db"]},
        ],
        "cloudwatch_iam_tags": {"team": "observability"},
    }


def test_iam_playbook_with_users_and_exporters_stores_keys_and_is_idempotent(ansible, aws, tmp_path, iam_snapshot):
    variables = fleet_vars(tmp_path)
    first = ansible.playbook("observability.cloudwatch.iam", extra_vars=variables)
    # Roles, users, exporters; and the deny that holds the admin role's and user's rights outside a publish.
    assert first.stats["localhost"]["changed"] == 5
    iam = aws.client("iam")
    assert iam.list_role_policies(RoleName="CloudWatchAgentAdminRole")["PolicyNames"] == [
        "CloudWatchAgentAdminGrantExpiry", "CloudWatchAgentAdminRevokeOlderSessions",
    ]
    assert iam.list_user_policies(UserName="cw-admin")["PolicyNames"] == ["CloudWatchAgentAdminGrantExpiry"]
    assert role_names(aws) == ["CloudWatchAgentAdminRole", SERVER_ROLE, "db-exporter"]
    state = iam_snapshot()
    assert state["instance_profiles"] == {SERVER_ROLE: [SERVER_ROLE]}
    assert {"Key": "team", "Value": "observability"} in state["roles"]["db-exporter"]["tags"]
    assert [key[1] for key in state["users"]["cw-onprem"]["keys"]] == ["Active"]
    assert state["users"]["cw-admin"]["keys"] == []

    store = tmp_path / "cw-onprem.json"
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    stored = json.loads(store.read_text())
    assert stored["access_key_id"] == state["users"]["cw-onprem"]["keys"][0][0]
    # The secret appears nowhere in the run's output.
    assert stored["secret_access_key"] not in first.output

    again = ansible.playbook("observability.cloudwatch.iam", extra_vars=variables)
    assert again.stats["localhost"]["changed"] == 0
    assert iam_snapshot() == state


def test_bad_role_variable_fails_before_anything_is_created(ansible, aws, iam_snapshot):
    before = iam_snapshot()
    run = ansible.playbook(
        "observability.cloudwatch.iam",
        extra_vars={"cloudwatch_iam_roles": [{"purpose": "superuser"}]},
        expect_failure=True,
    )
    assert "superuser" in run.output and "server, admin" in run.output
    run = ansible.playbook(
        "observability.cloudwatch.iam",
        extra_vars={"cloudwatch_iam_users": [{"name": "no-store"}]},
        expect_failure=True,
    )
    assert "no-store: access_key_store is required" in run.output
    assert iam_snapshot() == before


def test_rotation_steps_keep_the_old_key_until_retired(ansible, aws, tmp_path, iam_snapshot):
    variables = {"cloudwatch_iam_roles": [], "cloudwatch_iam_users": fleet_vars(tmp_path)["cloudwatch_iam_users"][:1]}
    ansible.playbook("observability.cloudwatch.iam", extra_vars=variables)
    store = tmp_path / "cw-onprem.json"
    old_id = json.loads(store.read_text())["access_key_id"]

    # Keys younger than the limit are left alone.
    playbook = tmp_path / "rotate.yml"
    playbook.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n"
        "    - {ansible.builtin.include_role: {name: observability.cloudwatch.iam, tasks_from: rotate}}\n"
        "    - {ansible.builtin.debug: {var: cloudwatch_iam_rotation}}\n"
    )
    young = ansible.playbook(playbook, extra_vars=dict(variables, cloudwatch_iam_key_max_age_days=30))
    assert young.stats["localhost"]["changed"] == 0
    assert json.loads(store.read_text())["access_key_id"] == old_id

    # rotate_keys with no on-premises host in the inventory: a new key, and the old one stays active, since
    # nothing but the run's own check has used the new key.
    run = ansible.playbook("observability.cloudwatch.rotate_keys", extra_vars=dict(variables, cloudwatch_iam_key_max_age_days=0))
    new_id = json.loads(store.read_text())["access_key_id"]
    assert new_id != old_id
    keys = dict(iam_snapshot()["users"]["cw-onprem"]["keys"])
    assert keys == {old_id: "Active", new_id: "Active"}
    assert "no host of cloudwatch_onprem uses" in run.output
    assert f"{old_id} stays active: the new key {new_id} has not been used yet" in run.output

    # A plain rerun picks the rotation up: no third key.
    again = ansible.playbook("observability.cloudwatch.rotate_keys", extra_vars=dict(variables, cloudwatch_iam_key_max_age_days=0))
    assert json.loads(store.read_text())["access_key_id"] == new_id
    assert dict(iam_snapshot()["users"]["cw-onprem"]["keys"]) == keys
    assert "cw-onprem rotating" in again.output

    # The retire step, once every host has switched, removes the old key, never the stored one.
    rotation = [{"name": "cw-onprem", "kind": "user", "access_key_store": f"file:{store}", "new_access_key_id": new_id,
                 "old_access_key_ids": [old_id], "switched": True}]
    retire = tmp_path / "retire.yml"
    retire.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - {ansible.builtin.include_role: {name: observability.cloudwatch.iam, tasks_from: retire}}\n"
    )
    ansible.playbook(retire, extra_vars=dict(
        variables, cloudwatch_iam_rotation=rotation, cloudwatch_iam_key_last_used_margin_minutes=0, cloudwatch_iam_key_retire_grace_days=0,
    ))
    assert dict(iam_snapshot()["users"]["cw-onprem"]["keys"]) == {new_id: "Active"}
    assert json.loads(store.read_text())["access_key_id"] == new_id
