# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Users and their access keys (module_utils/iam_user.py), with botocore's Stubber behind the retrying wrapper."""

import datetime
import json

import pytest

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.observability.cloudwatch.plugins.module_utils import caller as caller_identity
from ansible_collections.observability.cloudwatch.plugins.module_utils import access_keys
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_policies
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_principal
from ansible_collections.observability.cloudwatch.plugins.module_utils import iam_user

NOW = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
SERVER = iam_policies.AGENT_POLICIES["server"]
OWNER = [{"Key": "managed-by", "Value": "observability.cloudwatch"}]
USER_IDENTITY = {"UserId": "AIDA", "Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/admin"}


def key(key_id, status="Active", minute=0):
    return {"AccessKeyId": key_id, "Status": status, "CreateDate": NOW + datetime.timedelta(minutes=minute)}


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


def test_rotate_stores_the_new_key_and_returns_only_its_id(stubs):
    client, stub, sts, sts_stub = stubs
    user = {"Path": "/", "UserName": "u", "UserId": "AIDAEXAMPLEEXAMPLE1", "Arn": "arn:aws:iam::123456789012:user/u", "CreateDate": NOW, "Tags": OWNER}
    stub.add_response("get_user", {"User": user})
    stub.add_response("list_attached_user_policies", {"AttachedPolicies": [{"PolicyArn": SERVER}]})
    stub.add_response("list_access_keys", {"AccessKeyMetadata": [key("AKIAOLDEXAMPLE0001")]})
    sts_stub.add_response("get_caller_identity", USER_IDENTITY)
    new_key = {"UserName": "u", "AccessKeyId": "AKIANEWEXAMPLE0001", "SecretAccessKey": "very-secret", "Status": "Active", "CreateDate": NOW}
    stub.add_response("create_access_key", {"AccessKey": new_key}, {"UserName": "u"})
    store = MemoryStore({"access_key_id": "AKIAOLDEXAMPLE0001", "secret_access_key": "old", "user_name": "u"})
    result = iam_user.ensure_user_present(
        client,
        caller_identity.Caller(sts),
        iam_principal.UserSpec("u", required_policies=[SERVER]),
        access_keys.KeySpec("rotate", store=store),
        wait=False,
    )
    assert result["changed"] is True
    assert result["access_key_id"] == "AKIANEWEXAMPLE0001" and "access_key" not in result
    assert "very-secret" not in json.dumps(result, default=str), "the secret is only in the store"
    assert result["previous_access_key_ids"] == ["AKIAOLDEXAMPLE0001"]
    assert store.checked and store.record["access_key_id"] == "AKIANEWEXAMPLE0001" and store.record["secret_access_key"] == "very-secret"
    assert [k["status"] for k in result["access_keys"]] == ["Active", "Active"]
    assert "very-secret" not in json.dumps([result["diff"], result["changes"], result["warnings"]])


def test_store_of_another_user_is_never_overwritten(stubs):
    client, stub, sts, _sts_stub = stubs
    stub.add_client_error("get_user", "NoSuchEntity")
    store = MemoryStore({"access_key_id": "AKIAX", "secret_access_key": "x", "user_name": "someone"})
    with pytest.raises(AnsibleIAMError, match="holds the access key of user someone"):
        iam_user.ensure_user_present(client, caller_identity.Caller(sts), iam_principal.UserSpec("u"), access_keys.KeySpec("present", store=store))
    assert store.checked is False
