# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IAM reconcile helpers (module_utils/iam.py), with botocore's Stubber behind the retrying wrapper."""

import datetime
import json

import botocore.session
import pytest
from botocore.stub import ANY
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam

NOW = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
SERVER = iam.AGENT_POLICIES["server"]
OWNER = [{"Key": "managed-by", "Value": "observability.cloudwatch"}]
USER_IDENTITY = {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/admin"}
ROOT_IDENTITY = {"UserId": "123456789012", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:root"}


def _client(service):
    client = botocore.session.get_session().create_client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    return client, Stubber(client)


@pytest.fixture
def stubs():
    """(iam client, iam stubber, sts client, sts stubber); every stubbed response must be used."""
    iam_client, iam_stub = _client("iam")
    sts_client, sts_stub = _client("sts")
    retry = AWSRetry.jittered_backoff(retries=1)
    with iam_stub, sts_stub:
        yield RetryingBotoClientWrapper(iam_client, retry), iam_stub, RetryingBotoClientWrapper(sts_client, retry), sts_stub
        iam_stub.assert_no_pending_responses()
        sts_stub.assert_no_pending_responses()


def role(name="CloudWatchAgentServerRole", tags=None, **extra):
    data = {
        "Path": "/",
        "RoleName": name,
        "RoleId": "AROAEXAMPLEEXAMPLE1",
        "Arn": f"arn:aws:iam::123456789012:role/{name}",
        "CreateDate": NOW,
        "AssumeRolePolicyDocument": json.dumps(iam.EC2_TRUST_POLICY),
        "MaxSessionDuration": 3600,
        "Tags": OWNER if tags is None else tags,
    }
    data.update(extra)
    return data


def profile(name="CloudWatchAgentServerRole", roles=("CloudWatchAgentServerRole",), tags=None):
    return {
        "Path": "/",
        "InstanceProfileName": name,
        "InstanceProfileId": "AIPAEXAMPLEEXAMPLE1",
        "Arn": f"arn:aws:iam::123456789012:instance-profile/{name}",
        "CreateDate": NOW,
        "Roles": [role(r) for r in roles],
        "Tags": OWNER if tags is None else tags,
    }


def role_spec(**kwargs):
    kwargs.setdefault("name", "CloudWatchAgentServerRole")
    kwargs.setdefault("instance_profile", kwargs["name"])
    kwargs.setdefault("required_policies", [SERVER])
    return iam.RoleSpec(trust_policy=iam.EC2_TRUST_POLICY, **kwargs)


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: iam.validate_name("role", "has space"), "is not a valid IAM role name"),
        (lambda: iam.validate_name("role", "r" * 65), "use 1 to 64 characters"),
        (lambda: iam.validate_name("user", "u" * 65), "use 1 to 64 characters"),
        (lambda: iam.validate_name("role", "rôle"), "is not a valid IAM role name"),
        (lambda: iam.validate_name("role", ""), "name must not be empty"),
        (lambda: iam.validate_path("role", "no-slashes"), "is not a valid IAM path"),
        (lambda: iam.validate_path("role", "/" + "a" * 511 + "/"), "may not exceed 512"),
        (lambda: iam.validate_max_session_duration(3599), "between 3600 and 43200"),
        (lambda: iam.validate_max_session_duration(43201), "between 3600 and 43200"),
        (lambda: iam.validate_description("x" * 1001), "at most 1000 characters"),
        (lambda: iam.validate_permissions_boundary("ReadOnlyAccess"), "is not a managed policy ARN"),
        (lambda: iam.validate_policy_reference("arn:aws:iam::123:policy/X"), "is not a managed policy ARN"),
        (lambda: iam.validate_policy_reference("bad name!"), "neither a managed policy ARN nor a policy name"),
        (lambda: iam.validate_tags({"aws:x": "1"}), "must not start with aws:"),
        (lambda: iam.validate_tags({"k": "v" * 257}), "longer than 256"),
        (lambda: iam.agent_policies("logs", False), "purpose must be one of admin, server"),
    ],
)
def test_validation_errors(call, message):
    with pytest.raises(iam.AnsibleIAMError) as error:
        call()
    assert message in error.value.message


def test_valid_input_passes():
    iam.validate_name("role", "CloudWatchAgent+Server=,.@_-Role")
    iam.validate_name("instance profile", "p" * 128)
    iam.validate_path("role", "/agents/cloudwatch/")
    iam.validate_max_session_duration(3600)
    iam.validate_max_session_duration(43200)
    iam.validate_description("d" * 1000)
    iam.validate_permissions_boundary("")
    iam.validate_permissions_boundary("arn:aws-us-gov:iam::123456789012:policy/team/Boundary")
    iam.validate_policy_reference("service-role/AmazonEC2RoleforSSM")
    iam.validate_policy_reference("arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM")


# --- pure reconcile logic ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn, reference, expected",
    [
        (SERVER, SERVER, True),
        (SERVER, "arn:aws-cn:iam::aws:policy/CloudWatchAgentServerPolicy", True),
        (SERVER, "CloudWatchAgentServerPolicy", True),
        (iam.LEGACY_SSM_POLICY, "AmazonEC2RoleforSSM", True),
        (iam.LEGACY_SSM_POLICY, "service-role/AmazonEC2RoleforSSM", True),
        (iam.LEGACY_SSM_POLICY, "other/AmazonEC2RoleforSSM", False),
        ("arn:aws:iam::123456789012:policy/CloudWatchAgentServerPolicy", SERVER, False),
        (SERVER, "CloudWatchAgentAdminPolicy", False),
    ],
)
def test_policy_matches(arn, reference, expected):
    assert iam.policy_matches(arn, reference) is expected


def test_diff_attached_policies_never_detaches_required():
    current = [SERVER, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    assert iam.diff_attached_policies(current, [SERVER], purge=True) == ([], ["arn:aws:iam::aws:policy/ReadOnlyAccess"])
    assert iam.diff_attached_policies(current, [SERVER], purge=False) == ([], [])
    assert iam.diff_attached_policies([], [SERVER, "X", "X"], purge=True) == ([SERVER, "X"], [])
    assert iam.diff_attached_policies(current, [SERVER, "ReadOnlyAccess"], purge=True) == ([], [])


def test_desired_tags_keep_ownership_without_adopting():
    owned = {"managed-by": "observability.cloudwatch", "a": "1"}
    assert iam.desired_tags(None, None, owned=False) == {"managed-by": "observability.cloudwatch"}
    assert iam.desired_tags(None, {"a": "1"}, owned=False) == owned
    assert iam.desired_tags(owned, None, owned=True) is None
    assert iam.desired_tags(owned, {"b": "2"}, owned=True) == {"managed-by": "observability.cloudwatch", "b": "2"}
    assert iam.desired_tags({"x": "1"}, {"b": "2"}, owned=False) == {"b": "2"}
    assert iam.desired_tags({"x": "1"}, None, owned=False) is None


def key(key_id, status="Active", minute=0):
    return {"AccessKeyId": key_id, "Status": status, "CreateDate": NOW + datetime.timedelta(minutes=minute)}


@pytest.mark.parametrize(
    "keys, state, retire, stored, expected",
    [
        ([], "present", [], None, dict(retire=[], delete=None, create=True, previous=[])),
        ([key("A")], "present", [], "A", dict(retire=[], delete=None, create=False, previous=[])),
        ([key("A", "Inactive")], "present", [], None, dict(retire=[], delete=None, create=True, previous=["A"])),
        ([key("A")], "rotate", [], "A", dict(retire=[], delete=None, create=True, previous=["A"])),
        (
            [key("A", "Inactive", 0), key("B", "Active", 1)],
            "rotate",
            [],
            "B",
            dict(retire=[], delete="A", create=True, previous=["B"]),
        ),
        ([key("A", minute=0), key("B", minute=1)], "rotate", ["A"], "B", dict(retire=["A"], delete=None, create=True, previous=["B"])),
        ([key("A"), key("B")], "none", ["A", "Z"], "B", dict(retire=["A"], delete=None, create=False, previous=[])),
        ([key("A")], "none", [], None, dict(retire=[], delete=None, create=False, previous=[])),
    ],
)
def test_plan_access_keys(keys, state, retire, stored, expected):
    assert iam.plan_access_keys(keys, state, retire, stored) == expected


@pytest.mark.parametrize(
    "keys, state, retire, stored, message",
    [
        ([key("A"), key("B", minute=1)], "rotate", [], "B", "both are active (A, B)"),
        ([key("A")], "present", [], None, "Use access_key_state=rotate"),
        ([key("A")], "present", [], "OTHER", "whose secret is not in the access key store"),
        ([key("A")], "none", ["A"], "A", "retire_access_keys lists A, the key held in the access key store"),
    ],
)
def test_plan_access_keys_refuses(keys, state, retire, stored, message):
    with pytest.raises(iam.AnsibleIAMError) as error:
        iam.plan_access_keys(keys, state, retire, stored)
    assert message in error.value.message


def test_check_root_guard():
    with pytest.raises(iam.AnsibleIAMError, match="Create an administrator"):
        iam.check_root_guard("arn:aws:iam::123456789012:root", allow_root=False)
    with pytest.raises(iam.AnsibleIAMError, match="allow_root=true"):
        iam.check_root_guard("arn:aws-cn:iam::123456789012:root", allow_root=False)
    iam.check_root_guard("arn:aws:iam::123456789012:root", allow_root=True)
    iam.check_root_guard("arn:aws:iam::123456789012:user/root", allow_root=False)
    iam.check_root_guard("arn:aws:sts::123456789012:assumed-role/Admin/session", allow_root=False)


def test_plan_apply_runs_steps_in_order_and_keeps_keyed_results():
    ran = []
    plan = iam.Plan({"thing": None})
    assert plan.changed is False
    assert plan.add("first", lambda: ran.append(1) or "one", key="first") is True
    plan.add("second", lambda: ran.append(2))
    assert plan.changes == ["first", "second"]
    assert plan.apply() == {"first": "one"}
    assert ran == [1, 2]


def test_wait_until_times_out(monkeypatch):
    monkeypatch.setattr(iam.time, "sleep", lambda seconds: None)
    assert iam.wait_until(lambda: "ready", 1, "x") == "ready"
    with pytest.raises(iam.AnsibleIAMError, match="Timed out after 0 seconds waiting for the thing"):
        iam.wait_until(lambda: None, 0, "the thing")


# --- calls, with the Stubber ------------------------------------------------------------------------


def test_helpers_return_values(stubs):
    client, stub, _sts, _sts_stub = stubs
    stub.add_response("attach_role_policy", {}, {"RoleName": "r", "PolicyArn": SERVER})
    stub.add_client_error("detach_user_policy", "NoSuchEntity")
    stub.add_client_error("get_role", "NoSuchEntity")
    second, first = "arn:aws:iam::aws:policy/B-policy", "arn:aws:iam::aws:policy/A-policy"
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyArn": second}], "IsTruncated": True, "Marker": "m"})
    stub.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyArn": first}], "IsTruncated": False},
        {"RoleName": "r", "Marker": "m"},
    )
    assert iam.attach_policy(client, "role", "r", SERVER) is True
    assert iam.detach_policy(client, "user", "u", SERVER) is False
    assert iam.get_role(client, "missing") is None
    assert iam.list_attached_policy_arns(client, "role", "r") == [first, second]


def test_resolve_policy_arn_tries_aws_then_customer(stubs):
    client, stub, _sts, _sts_stub = stubs
    stub.add_client_error("get_policy", "NoSuchEntity", expected_params={"PolicyArn": "arn:aws:iam::aws:policy/Mine"})
    stub.add_response("get_policy", {"Policy": {"Arn": "arn:aws:iam::123456789012:policy/Mine"}}, {"PolicyArn": "arn:aws:iam::123456789012:policy/Mine"})
    stub.add_client_error("get_policy", "NoSuchEntity")
    stub.add_client_error("get_policy", "NoSuchEntity")
    assert iam.resolve_policy_arn(client, "Mine", "123456789012", "aws") == "arn:aws:iam::123456789012:policy/Mine"
    assert iam.resolve_policy_arn(client, "CloudWatchAgentServerPolicy", "1", "aws-cn") == ("arn:aws-cn:iam::aws:policy/CloudWatchAgentServerPolicy"), (
        "known AWS managed policies cost no call"
    )
    with pytest.raises(iam.AnsibleIAMError, match="managed policy 'Nope' does not exist"):
        iam.resolve_policy_arn(client, "Nope", "123456789012", "aws")


def test_create_role_with_profile(stubs):
    client, stub, sts, sts_stub = stubs
    stub.add_client_error("get_role", "NoSuchEntity")
    stub.add_client_error("get_instance_profile", "NoSuchEntity")
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    stub.add_response(
        "create_role",
        {"Role": role()},
        {
            "RoleName": "CloudWatchAgentServerRole",
            "Path": "/",
            "AssumeRolePolicyDocument": json.dumps(iam.EC2_TRUST_POLICY),
            "Tags": [{"Key": "team", "Value": "obs"}, {"Key": "managed-by", "Value": "observability.cloudwatch"}],
            "Description": "agent",
        },
    )
    stub.add_response("attach_role_policy", {}, {"RoleName": "CloudWatchAgentServerRole", "PolicyArn": SERVER})
    stub.add_response(
        "create_instance_profile",
        {"InstanceProfile": profile(roles=())},
        {"InstanceProfileName": "CloudWatchAgentServerRole", "Path": "/", "Tags": ANY},
    )
    stub.add_response("add_role_to_instance_profile", {}, {"InstanceProfileName": "CloudWatchAgentServerRole", "RoleName": "CloudWatchAgentServerRole"})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})

    result = iam.ensure_role_present(client, iam.Caller(sts), role_spec(tags={"team": "obs"}, default_description="agent"))
    assert result["changed"] is True
    assert result["role"]["arn"] == "arn:aws:iam::123456789012:role/CloudWatchAgentServerRole"
    assert result["role"]["role_id"] == "AROAEXAMPLEEXAMPLE1"
    assert result["role"]["attached_policies"] == [SERVER]
    assert result["role"]["tags"] == {"team": "obs", "managed-by": "observability.cloudwatch"}
    assert result["instance_profile"]["roles"] == ["CloudWatchAgentServerRole"]
    assert result["diff"]["before"] == {"role": None, "instance_profile": None}
    assert len(result["changes"]) == 4


def test_noop_reads_three_times_and_never_asks_who_calls(stubs):
    client, stub, sts, _sts_stub = stubs
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyName": "p", "PolicyArn": SERVER}]})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    result = iam.ensure_role_present(client, iam.Caller(sts), role_spec())
    assert result["changed"] is False and result["changes"] == [] and result["warnings"] == []
    assert result["diff"]["before"] == result["diff"]["after"]


@pytest.mark.parametrize("check_mode", [True, False])
def test_root_guard_trips_before_any_write(stubs, check_mode):
    client, stub, sts, sts_stub = stubs
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": []})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    sts_stub.add_response("get_caller_identity", ROOT_IDENTITY)
    with pytest.raises(iam.AnsibleIAMError) as error:
        iam.ensure_role_present(client, iam.Caller(sts), role_spec(), check_mode=check_mode)
    assert "root user's credentials" in error.value.message and "Create an administrator" in error.value.message


def test_root_allowed_with_allow_root(stubs):
    client, stub, sts, sts_stub = stubs
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": []})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    sts_stub.add_response("get_caller_identity", ROOT_IDENTITY)
    stub.add_response("attach_role_policy", {}, {"RoleName": "CloudWatchAgentServerRole", "PolicyArn": SERVER})
    result = iam.ensure_role_present(client, iam.Caller(sts, allow_root=True), role_spec())
    assert result["changed"] is True and result["role"]["attached_policies"] == [SERVER]


def test_update_in_check_mode_writes_nothing_and_predicts(stubs):
    client, stub, sts, sts_stub = stubs
    stub.add_response("get_role", {"Role": role(Description="old")})
    stub.add_response(
        "list_attached_role_policies",
        {"AttachedPolicies": [{"PolicyArn": SERVER}, {"PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]},
    )
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    result = iam.ensure_role_present(client, iam.Caller(sts), role_spec(description="new", tags={"a": "1"}, max_session_duration=7200), check_mode=True)
    assert result["changed"] is True
    assert result["role"]["description"] == "new"
    assert result["role"]["max_session_duration"] == 7200
    assert result["role"]["attached_policies"] == [SERVER]
    assert result["role"]["tags"] == {"a": "1", "managed-by": "observability.cloudwatch"}
    assert result["instance_profile"]["tags"] == {"a": "1", "managed-by": "observability.cloudwatch"}
    assert result["diff"]["before"]["role"]["description"] == "old"


def test_profile_taken_by_another_role_fails_before_writing(stubs):
    client, stub, sts, _sts_stub = stubs
    stub.add_client_error("get_role", "NoSuchEntity")
    stub.add_response("get_instance_profile", {"InstanceProfile": profile(roles=("Other",))})
    with pytest.raises(iam.AnsibleIAMError, match="already holds role Other"):
        iam.ensure_role_present(client, iam.Caller(sts), role_spec())


def test_absent_refuses_unowned_role(stubs):
    client, stub, sts, _sts_stub = stubs
    stub.add_response("get_role", {"Role": role(tags=[])})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile(tags=[])})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": []})
    with pytest.raises(iam.AnsibleIAMError, match="Refusing to delete role CloudWatchAgentServerRole"):
        iam.ensure_role_absent(client, iam.Caller(sts), role_spec())


def test_absent_deletes_in_order(stubs):
    client, stub, sts, sts_stub = stubs
    name = "CloudWatchAgentServerRole"
    stub.add_response("get_role", {"Role": role()})
    stub.add_response("get_instance_profile", {"InstanceProfile": profile()})
    stub.add_response("list_attached_role_policies", {"AttachedPolicies": [{"PolicyArn": SERVER}]})
    stub.add_response("list_instance_profiles_for_role", {"InstanceProfiles": [profile()]})
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    stub.add_response("detach_role_policy", {}, {"RoleName": name, "PolicyArn": SERVER})
    stub.add_response("remove_role_from_instance_profile", {}, {"InstanceProfileName": name, "RoleName": name})
    stub.add_response("delete_instance_profile", {}, {"InstanceProfileName": name})
    stub.add_response("delete_role", {}, {"RoleName": name})
    result = iam.ensure_role_absent(client, iam.Caller(sts), role_spec())
    assert result["changed"] is True
    assert result["role"] is None and result["instance_profile"] is None


class FailingStore:
    spec = "ssm:/k"

    def write(self, record):
        raise iam.AnsibleIAMError(message="Cannot write ssm:/k: AccessDenied")


def test_new_key_is_deleted_when_it_cannot_be_stored(stubs):
    client, stub, _sts, _sts_stub = stubs
    new_key = {"UserName": "u", "AccessKeyId": "AKIANEWEXAMPLE0001", "SecretAccessKey": "very-secret", "Status": "Active", "CreateDate": NOW}
    stub.add_response("create_access_key", {"AccessKey": new_key}, {"UserName": "u"})
    stub.add_response("delete_access_key", {}, {"UserName": "u", "AccessKeyId": "AKIANEWEXAMPLE0001"})
    with pytest.raises(iam.AnsibleIAMError) as error:
        iam.create_and_store_access_key(client, "u", FailingStore())
    assert "the new key AKIANEWEXAMPLE0001 was deleted again" in error.value.message
    assert "AccessDenied" in error.value.message
    assert "very-secret" not in str(error.value)


class MemoryStore:
    spec = "file:/memory"

    def __init__(self, record=None):
        self.record = record
        self.checked = False

    def read(self):
        return self.record

    def check_writable(self):
        self.checked = True
        return True

    def write(self, record):
        self.record = record
        return True


def test_rotate_stores_the_new_key_and_returns_it_once(stubs):
    client, stub, sts, sts_stub = stubs
    user = {"Path": "/", "UserName": "u", "UserId": "AIDAEXAMPLEEXAMPLE1", "Arn": "arn:aws:iam::123456789012:user/u", "CreateDate": NOW, "Tags": OWNER}
    stub.add_response("get_user", {"User": user})
    stub.add_response("list_attached_user_policies", {"AttachedPolicies": [{"PolicyArn": SERVER}]})
    stub.add_response("list_access_keys", {"AccessKeyMetadata": [key("AKIAOLDEXAMPLE0001")]})
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    new_key = {"UserName": "u", "AccessKeyId": "AKIANEWEXAMPLE0001", "SecretAccessKey": "very-secret", "Status": "Active", "CreateDate": NOW}
    stub.add_response("create_access_key", {"AccessKey": new_key}, {"UserName": "u"})
    store = MemoryStore({"access_key_id": "AKIAOLDEXAMPLE0001", "secret_access_key": "old", "user_name": "u"})
    result = iam.ensure_user_present(
        client,
        iam.Caller(sts),
        iam.UserSpec("u", required_policies=[SERVER]),
        iam.KeySpec("rotate", store=store),
        wait=False,
    )
    assert result["changed"] is True
    assert result["access_key"] == {"access_key_id": "AKIANEWEXAMPLE0001", "secret_access_key": "very-secret"}
    assert result["previous_access_key_ids"] == ["AKIAOLDEXAMPLE0001"]
    assert store.checked and store.record["access_key_id"] == "AKIANEWEXAMPLE0001" and store.record["secret_access_key"] == "very-secret"
    assert [k["status"] for k in result["access_keys"]] == ["Active", "Active"]
    assert "very-secret" not in json.dumps([result["diff"], result["changes"], result["warnings"]])


def test_store_of_another_user_is_never_overwritten(stubs):
    client, stub, sts, _sts_stub = stubs
    stub.add_client_error("get_user", "NoSuchEntity")
    store = MemoryStore({"access_key_id": "AKIAX", "secret_access_key": "x", "user_name": "someone"})
    with pytest.raises(iam.AnsibleIAMError, match="holds the access key of user someone"):
        iam.ensure_user_present(client, iam.Caller(sts), iam.UserSpec("u"), iam.KeySpec("present", store=store))
    assert store.checked is False


def test_key_spec_requires_a_store():
    with pytest.raises(iam.AnsibleIAMError, match="access_key_store is required with access_key_state=present"):
        iam.KeySpec("present").validate()
    with pytest.raises(iam.AnsibleIAMError, match="access_key_store is required with retire_access_keys"):
        iam.KeySpec("none", retire=["AKIA"]).validate()


def test_wait_for_access_key_retries_until_accepted(monkeypatch, stubs):
    _client_, _stub, sts, sts_stub = stubs
    monkeypatch.setattr(iam.time, "sleep", lambda seconds: None)
    sts_stub.add_client_error("get_caller_identity", "InvalidClientTokenId")
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    used = []
    identity = iam.wait_for_access_key(lambda key_id, secret: used.append(key_id) or sts, "AKIANEWEXAMPLE0001", "s", 30)
    assert identity["Arn"] == USER_IDENTITY["Arn"] and used == ["AKIANEWEXAMPLE0001"]


def test_legacy_ssm_policy_warning():
    assert iam.agent_policy_warnings(["ReadOnlyAccess"]) == []
    assert "deprecated" in iam.agent_policy_warnings(["service-role/AmazonEC2RoleforSSM"])[0]
    assert iam.agent_policies("admin", True) == [iam.AGENT_POLICIES["admin"], iam.SSM_CORE_POLICY]
