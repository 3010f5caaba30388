# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What roles and users share (module_utils/iam_principal.py, iam_api.py), with botocore's Stubber behind the retrying wrapper."""

from ansible_collections.amazon.aws.plugins.module_utils.iam import get_iam_role
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_api
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_principal

SERVER = iam_policies.AGENT_POLICIES["server"]


def test_desired_tags_keep_ownership_without_adopting():
    owned = {"managed-by": "observability.cloudwatch", "a": "1"}
    assert iam_principal.desired_tags(None, None, owned=False) == {"managed-by": "observability.cloudwatch"}
    assert iam_principal.desired_tags(None, {"a": "1"}, owned=False) == owned
    assert iam_principal.desired_tags(owned, None, owned=True) is None
    assert iam_principal.desired_tags(owned, {"b": "2"}, owned=True) == {"managed-by": "observability.cloudwatch", "b": "2"}
    assert iam_principal.desired_tags({"x": "1"}, {"b": "2"}, owned=False) == {"b": "2"}
    assert iam_principal.desired_tags({"x": "1"}, None, owned=False) is None


def test_desired_tags_never_drop_the_collections_state_tags():
    """A grant's lease and a rotation's journal survive any tags and purge_tags, owned or not."""
    state = {"cloudwatch-admin-grant": "ops until 2026-01-01T00:00:00Z", "cloudwatch-key-rotation": "switched AKIAEXAMPLE 2026-01-01T00:00:00Z"}
    owned = dict(state, **{"managed-by": "observability.cloudwatch", "x": "1"})
    assert iam_principal.desired_tags(owned, {}, owned=True) == dict(state, **{"managed-by": "observability.cloudwatch"})
    assert iam_principal.desired_tags(dict(state, x="1"), {"b": "2"}, owned=False) == dict(state, b="2")


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
    assert iam_api.attach_policy(client, "role", "r", SERVER) is True
    assert iam_api.detach_policy(client, "user", "u", SERVER) is False
    assert get_iam_role(client, "missing") is None
    assert iam_api.list_attached_policy_arns(client, "role", "r") == [first, second]
