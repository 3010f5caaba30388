# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The admin user's rights under a run that dies, and under two publishers at once, against the moto server.

moto enforces neither the grant's time bound nor any deny: what the admin user may do is read back from IAM
and decided by the project's policy evaluator (tests/tools/iam_eval.py).
"""

import datetime
import json
import os
import signal
import time

import fault_proxy  # from tests/tools (pytest.ini pythonpath)
import iam_eval

PLAYBOOK = "observability.cloudwatch.publish_config"
ROLE = "observability.cloudwatch.config : "
ADMIN = "cloudwatch-admin"
ADMIN_POLICY = "arn:aws:iam::aws:policy/CloudWatchAgentAdminPolicy"
GRANT_TAG = "cloudwatch-admin-grant"
LINUX = {"metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}}}
WINDOWS = {"metrics": {"metrics_collected": {"Memory": {"measurement": ["% Committed Bytes In Use"]}}}}
ONE_SECOND = datetime.timedelta(seconds=1)


def admin_user(aws):
    iam = aws.client("iam")
    iam.create_user(UserName=ADMIN)
    iam.attach_user_policy(UserName=ADMIN, PolicyArn=ADMIN_POLICY)


def publish_vars(name, config, **extra):
    variables = {
        "cloudwatch_publish_regions": ["us-east-1"],
        "cloudwatch_publish_credentials": "admin_user",
        "cloudwatch_publish_admin_user": ADMIN,
        "cloudwatch_publish_configs": [{"name": name, "config": config}],
    }
    variables.update(extra)
    return variables


def lease(aws):
    tags = {t["Key"]: t["Value"] for t in aws.client("iam").list_user_tags(UserName=ADMIN)["Tags"]}
    return tags.get(GRANT_TAG)


def keys(aws):
    return [k["AccessKeyId"] for k in aws.client("iam").list_access_keys(UserName=ADMIN)["AccessKeyMetadata"]]


def stored(aws, name):
    return json.loads(aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])


def test_a_killed_publish_loses_its_rights_at_the_bound_and_the_next_run_finishes_it(aws, ansible, private_tmp):
    admin_user(aws)
    # The killed run cannot remove its private key directory: it is kept out of the machine's /tmp.
    process = ansible.start(PLAYBOOK, extra_vars=publish_vars("AmazonCloudWatch-linux", LINUX), env={"TMPDIR": str(private_tmp)})
    # Kill it (SIGKILL: nothing of it runs any more) while it holds the grant and its key.
    deadline = time.monotonic() + 180
    while not (lease(aws) and keys(aws)):
        assert process.poll() is None and time.monotonic() < deadline, "the publish never held the grant"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    holder, _sep, until = lease(aws).rpartition(" until ")
    ends = datetime.datetime.fromisoformat(until.replace("Z", "+00:00"))
    left = keys(aws)
    assert len(left) == 1, "the dead run's key is still there"
    evaluator = iam_eval.evaluator_for(aws.client("iam"), "user", ADMIN)
    put = ("ssm:PutParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/AmazonCloudWatch-linux")
    assert evaluator.decide(*put, context=iam_eval.request_context(ends - ONE_SECOND)) == iam_eval.ALLOW
    assert evaluator.decide(*put, context=iam_eval.request_context(ends + ONE_SECOND)) == iam_eval.EXPLICIT_DENY
    assert ends - datetime.datetime.now(datetime.timezone.utc) <= datetime.timedelta(minutes=15)

    # The test cannot wait 15 minutes: it moves the dead run's grant end into the past, as time would.
    past = (datetime.datetime.now(datetime.timezone.utc) - ONE_SECOND).strftime("%Y-%m-%dT%H:%M:%SZ")
    aws.client("iam").tag_user(UserName=ADMIN, Tags=[{"Key": GRANT_TAG, "Value": f"{holder} until {past}"}])
    run = ansible.playbook(PLAYBOOK, extra_vars=publish_vars("AmazonCloudWatch-linux", LINUX))
    finished = run.result(ROLE + "Finish an interrupted publish of the admin user")
    assert finished["changed"] and f"delete access key {left[0]} of user {ADMIN}" in finished["changes"]
    assert keys(aws) == [] and lease(aws) is None
    assert stored(aws, "AmazonCloudWatch-linux") == LINUX
    # What the killed run left on disk is a key that no longer exists.
    left_behind = [json.loads(path.read_text())["access_key_id"] for path in private_tmp.glob("*.cloudwatch-publish/admin-key.json")]
    assert left_behind in ([], left)


def test_two_publishers_at_once_take_turns(aws, ansible):
    admin_user(aws)

    # The first publisher's write is held back a while, so that the second certainly meets its grant.
    def slow_writes(request):
        if request.operation == "PutParameter":
            time.sleep(15)

    with fault_proxy.FaultProxy(aws.url, before_forward=slow_writes) as proxy:
        slow_env = {"AWS_URL": proxy.url, "AWS_ENDPOINT_URL": proxy.url}
        waits = {"cloudwatch_publish_grant_wait_seconds": 180}
        first = ansible.start(PLAYBOOK, extra_vars=publish_vars("AmazonCloudWatch-linux", LINUX, **waits), env=slow_env)
        second = ansible.start(PLAYBOOK, extra_vars=publish_vars("AmazonCloudWatch-windows", WINDOWS, **waits))
        runs = [ansible.finish(first), ansible.finish(second)]

    grants = [run.result(ROLE + "Take the admin user's rights, for a bounded time") for run in runs]
    holders = [g["grant"]["holder"] for g in grants]
    waited = [g["waited_for"] for g in grants]
    assert holders[0] != holders[1]
    # Exactly one waited, and it waited for the other.
    assert sorted(w is None for w in waited) == [False, True]
    waiter = 0 if waited[0] else 1
    assert waited[waiter]["holder"] == holders[1 - waiter]
    # Both configurations are published whole; no key and no grant is left.
    assert stored(aws, "AmazonCloudWatch-linux") == LINUX and stored(aws, "AmazonCloudWatch-windows") == WINDOWS
    assert keys(aws) == [] and lease(aws) is None
