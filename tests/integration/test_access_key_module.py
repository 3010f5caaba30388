# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.access_key against the moto server: keys of an existing user, with their store."""

import datetime
import json
import stat
import time

from local_aws import operation_counts

MODULE = "observability.cloudwatch.access_key"
USER = "cw-key-user"
READS = {"ListAccessKeys", "GetUser", "GetParameter", "GetCallerIdentity", "GetAccessKeyLastUsed", "DescribeKey", "DescribeParameters"}


def keys_of(iam, user=USER):
    keys = sorted(iam.list_access_keys(UserName=user)["AccessKeyMetadata"], key=lambda k: k["CreateDate"])
    return [(k["AccessKeyId"], k["Status"]) for k in keys]


def writes(calls):
    return {name: count for name, count in operation_counts(calls).items() if name not in READS}


def make_user(iam, policy="arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"):
    iam.create_user(UserName=USER, Tags=[{"Key": "managed-by", "Value": "observability.cloudwatch"}])
    iam.attach_user_policy(UserName=USER, PolicyArn=policy)


def test_four_step_drill_with_an_ssm_store(aws, ansible, store_key):
    iam, ssm = aws.client("iam"), aws.client("ssm")
    make_user(iam)
    args = {"user_name": USER, "access_key_store": "ssm:/cw/keys/user", "kms_key_id": store_key}

    check = ansible.module(MODULE, args, check=True)
    assert check["changed"] is True
    assert check["access_keys"] == [{"access_key_id": None, "status": "Active", "create_date": None}]
    assert keys_of(iam) == [] and ssm.describe_parameters()["Parameters"] == []

    with aws.record() as calls:
        created = ansible.module(MODULE, args)
    record = json.loads(ssm.get_parameter(Name="/cw/keys/user", WithDecryption=True)["Parameter"]["Value"])
    assert ssm.describe_parameters()["Parameters"][0]["KeyId"] == store_key
    assert created["changed"] is True
    assert created["access_key_id"] == record["access_key_id"]
    assert keys_of(iam) == [(record["access_key_id"], "Active")]
    assert record["secret_access_key"] not in json.dumps(created), "the module never returns a secret"
    assert writes(calls) == {"CreateAccessKey": 1, "PutParameter": 1}

    with aws.record() as calls:
        again = ansible.module(MODULE, args, check=True)
    assert again["changed"] is False
    assert operation_counts(calls) == {"ListAccessKeys": 1, "GetParameter": 1}

    with aws.record() as calls:
        noop = ansible.module(MODULE, args)
    assert noop["changed"] is False and noop["changes"] == []
    assert operation_counts(calls) == {"ListAccessKeys": 1, "GetParameter": 1}
    # The user's policies were never read, let alone touched.
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=USER)["AttachedPolicies"]] == [
        "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
    ]


def test_rotate_honours_the_age_and_retire_needs_only_the_user_and_the_store(aws, ansible, tmp_path):
    iam = aws.client("iam")
    make_user(iam)
    store = tmp_path / "user.json"
    args = {"user_name": USER, "access_key_store": f"file:{store}"}
    first = ansible.module(MODULE, args)["access_key_id"]

    with aws.record() as calls:
        young = ansible.module(MODULE, dict(args, state="rotate", max_age_days=30))
    assert young["changed"] is False and "access_key_id" not in young
    assert writes(calls) == {}
    assert keys_of(iam) == [(first, "Active")]

    rotated = ansible.module(MODULE, dict(args, state="rotate", max_age_days=0))
    second = rotated["access_key_id"]
    assert rotated["changed"] is True and second != first
    assert rotated["previous_access_key_ids"] == [first]
    assert keys_of(iam) == [(first, "Active"), (second, "Active")], "the old key stays active"
    assert json.loads(store.read_text())["access_key_id"] == second
    assert stat.S_IMODE(store.stat().st_mode) == 0o600

    refused = ansible.module(MODULE, dict(args, retire_access_keys=[second]), expect_failure=True)
    assert "the key held in the access key store" in refused["msg"]
    assert keys_of(iam) == [(first, "Active"), (second, "Active")]

    with aws.record() as calls:
        retired = ansible.module(MODULE, dict(args, retire_access_keys=[first]))
    assert retired["changed"] is True
    assert keys_of(iam) == [(second, "Active")]
    assert writes(calls) == {"UpdateAccessKey": 1, "DeleteAccessKey": 1}


def use_key(aws, store_text):
    """One CloudWatch call signed with the key a store held: what an agent or an exporter does with it."""
    record = json.loads(store_text)
    credentials = dict(aws_access_key_id=record["access_key_id"], aws_secret_access_key=record["secret_access_key"])
    aws.client("cloudwatch", **credentials).list_metrics()


def rotation_tag(iam):
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=USER)["Tags"]}
    return tags.get("cloudwatch-key-rotation")


def rotated_user(aws, ansible, tmp_path):
    """A user whose first key an agent used, then rotated: the store holds the second key. Returns the module
    arguments, the first key id and record, the second key id."""
    make_user(aws.client("iam"))
    store = tmp_path / "user.json"
    args = {"user_name": USER, "access_key_store": f"file:{store}"}
    first = ansible.module(MODULE, args)["access_key_id"]
    first_record = store.read_text()
    use_key(aws, first_record)
    second = ansible.module(MODULE, dict(args, state="rotate", max_age_days=0))["access_key_id"]
    return args, first, first_record, second


def test_a_stopped_rotation_is_picked_up_and_retired_only_when_unused_then_after_the_grace(aws, ansible, tmp_path):
    iam = aws.client("iam")
    args, first, _record, second = rotated_user(aws, ansible, tmp_path)

    # A rerun of the rotation, whatever the age, makes no key: it reports the rotation under way.
    with aws.record() as calls:
        again = ansible.module(MODULE, dict(args, state="rotate", max_age_days=0))
    assert again["changed"] is False and again["rotation_in_progress"] is True
    assert again["stored_access_key_id"] == second and again["previous_access_key_ids"] == [first]
    assert writes(calls) == {}

    # Every host has the new key now; AWS may still report an earlier use: nothing is deactivated yet.
    waiting = ansible.module(MODULE, dict(args, state="retire", all_consumers_switched=True))
    assert keys_of(iam) == [(first, "Active"), (second, "Active")]
    assert waiting["waiting"][0].startswith(f"{first} stays active until ")
    switched = rotation_tag(iam)
    assert switched.startswith(f"switched {second} ")

    # Past the margin, unused since the switch: deactivated, kept for the grace period.
    with aws.record() as calls:
        deactivated = ansible.module(MODULE, dict(args, state="retire", all_consumers_switched=True, last_used_margin_minutes=0))
    assert keys_of(iam) == [(first, "Inactive"), (second, "Active")]
    assert deactivated["waiting"][0].startswith(f"{first} is inactive since ")
    assert rotation_tag(iam).startswith(switched + f" inactive {first} ")
    assert writes(calls) == {"UpdateAccessKey": 1, "TagUser": 1}

    # Within the grace period a rerun changes nothing; after it the key goes and so does the journal.
    assert ansible.module(MODULE, dict(args, state="retire", last_used_margin_minutes=0))["changed"] is False
    deleted = ansible.module(MODULE, dict(args, state="retire", retire_grace_days=0))
    assert deleted["changed"] is True and deleted["waiting"] == []
    assert keys_of(iam) == [(second, "Active")] and rotation_tag(iam) is None


def test_an_old_key_used_after_the_switch_stays_active_with_a_warning(aws, ansible, tmp_path):
    iam = aws.client("iam")
    args, first, first_record, second = rotated_user(aws, ansible, tmp_path)
    ansible.module(MODULE, dict(args, state="retire", all_consumers_switched=True))
    time.sleep(1)
    use_key(aws, first_record)

    kept = ansible.module(MODULE, dict(args, state="retire", all_consumers_switched=True, last_used_margin_minutes=0, retire_grace_days=0))

    assert keys_of(iam) == [(first, "Active"), (second, "Active")]
    assert any(f"{first} was used at" in w and "something outside the inventory still uses it" in w for w in kept["warnings"])


def test_without_a_switch_the_old_key_goes_once_the_new_one_is_in_use(aws, ansible, tmp_path):
    """An exporter's owner picks the new key up in its own time."""
    iam = aws.client("iam")
    args, first, _record, second = rotated_user(aws, ansible, tmp_path)
    options = dict(args, state="retire", last_used_margin_minutes=0, retire_grace_days=0)

    # The module's own check of the new key (sts:GetCallerIdentity) does not count as the owner's use.
    unused = ansible.module(MODULE, options)
    assert unused["changed"] is False and "has not been used yet" in unused["waiting"][0]
    use_key(aws, (tmp_path / "user.json").read_text())

    assert ansible.module(MODULE, options)["changed"] is True
    assert keys_of(iam) == [(second, "Active")]


def test_retire_refuses_a_store_without_a_key_of_the_user(aws, ansible, tmp_path, iam_snapshot):
    iam = aws.client("iam")
    make_user(iam)
    iam.create_access_key(UserName=USER)
    before = iam_snapshot()
    refused = ansible.module(MODULE, {"user_name": USER, "access_key_store": f"file:{tmp_path / 'none.json'}", "state": "retire"}, expect_failure=True)
    assert "holds no key of user cw-key-user that IAM knows" in refused["msg"]
    assert iam_snapshot() == before


def test_rotate_leaves_a_key_younger_than_max_age_days(aws, ansible, tmp_path):
    """The age is IAM's CreateDate: a key created now is younger than a day, so max_age_days=1 leaves it
    (the day boundary itself is unit-tested in test_access_keys.py)."""
    iam = aws.client("iam")
    make_user(iam)
    args = {"user_name": USER, "access_key_store": f"file:{tmp_path / 'user.json'}"}
    ansible.module(MODULE, args)
    created = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"][0]["CreateDate"]
    assert datetime.datetime.now(datetime.timezone.utc) - created < datetime.timedelta(days=1)
    assert ansible.module(MODULE, dict(args, state="rotate", max_age_days=1))["changed"] is False


def test_absent_deletes_the_keys_and_the_record_but_keeps_the_user(aws, ansible, tmp_path):
    iam = aws.client("iam")
    make_user(iam)
    store = tmp_path / "user.json"
    args = {"user_name": USER, "access_key_store": f"file:{store}"}
    ansible.module(MODULE, args)
    ansible.module(MODULE, dict(args, state="rotate"))

    check = ansible.module(MODULE, dict(args, state="absent"), check=True)
    assert check["changed"] is True and check["access_keys"] == []
    assert len(keys_of(iam)) == 2 and store.exists()

    gone = ansible.module(MODULE, dict(args, state="absent"))
    assert gone["changed"] is True
    assert keys_of(iam) == [] and not store.exists()
    assert iam.get_user(UserName=USER)["User"]["UserName"] == USER
    assert ansible.module(MODULE, dict(args, state="absent"))["changed"] is False


def test_bad_input_changes_nothing(aws, ansible, tmp_path, iam_snapshot):
    before = iam_snapshot()
    missing = ansible.module(MODULE, {"user_name": USER, "access_key_store": f"file:{tmp_path / 'k.json'}"}, expect_failure=True)
    assert f"user {USER} does not exist" in missing["msg"]
    no_store = ansible.module(MODULE, {"user_name": USER, "state": "rotate"}, expect_failure=True)
    assert "access_key_store" in no_store["msg"]
    bad_name = ansible.module(MODULE, {"user_name": "bad name!", "access_key_store": "ssm:/cw/k", "kms_key_id": "alias/k"}, expect_failure=True)
    assert "user_name" in bad_name["msg"]
    reserved = ansible.module(MODULE, {"user_name": USER, "access_key_store": "ssm:AmazonCloudWatch-keys"}, expect_failure=True)
    assert "AmazonCloudWatch-" in reserved["msg"]
    assert iam_snapshot() == before and not (tmp_path / "k.json").exists()
    assert aws.client("ssm").describe_parameters()["Parameters"] == []
