# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM instance profile association of an EC2 instance: read it, set or swap it, remove it, wait for it.

Helpers take an EC2 client (built with ``retry_decorator=retries.jittered_backoff()``) and plain values,
never a module, and raise ``AnsibleEC2Error``. The describe, associate and replace calls are amazon.aws's
helpers; amazon.aws has none for DisassociateIamInstanceProfile.
"""

import functools
import re
import time

try:
    import botocore
except ImportError:
    pass  # Modules are responsible for handling this.

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import EC2InstanceErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import associate_iam_instance_profile
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import describe_iam_instance_profile_associations
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import replace_iam_instance_profile_association
from ansible_collections.amazon.aws.plugins.module_utils.transformation import scrub_none_parameters

LIVE_STATES = ["associating", "associated", "disassociating"]
POLL_SECONDS = 2

# EC2 refuses an instance profile IAM has just created ("Invalid IAM Instance Profile name" or "... ARN")
# until IAM's change reaches it; only this refusal is retried, every other error is final.
PROPAGATION_CODE = "InvalidParameterValue"
PROPAGATION_MESSAGE = "Invalid IAM Instance Profile"
# Seconds to retry that refusal when the module does not wait (wait=false); with wait, wait_timeout.
PROPAGATION_SECONDS = 60
PROPAGATION_MAX_DELAY = 10


@EC2InstanceErrorHandler.common_error_handler("disassociate iam instance profile")
def disassociate_iam_instance_profile(client, association_id):
    client.disassociate_iam_instance_profile(AssociationId=association_id, aws_retry=True)
    return True


def read_association(client, instance_id):
    """The instance's association that is not on its way out, or None."""
    associations = describe_iam_instance_profile_associations(
        client, Filters=[{"Name": "instance-id", "Values": [instance_id]}, {"Name": "state", "Values": LIVE_STATES}]
    )
    current = [a for a in associations if a.get("State") in ("associating", "associated")]
    return current[0] if current else None


def profile_spec(profile):
    """The IamInstanceProfile argument for a name or an ARN."""
    return {"Arn": profile} if profile.startswith("arn:") else {"Name": profile}


# An instance profile ARN: partition, account, optional path, name.
PROFILE_ARN = re.compile(r"arn:(aws[a-z-]*):iam::(\d{12}):instance-profile/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,128})")


def restore_target(recorded, admin_profile_arn):
    """The profile to give back for a restore tag's value ``recorded``: the ARN it holds when that is another
    instance profile of the admin profile's partition and account, else ``"none"`` (remove the admin profile, give
    none). Anyone who may tag instances can write the tag; an admin session writes only ARNs it read from EC2."""
    admin = PROFILE_ARN.fullmatch(admin_profile_arn or "")
    found = PROFILE_ARN.fullmatch(recorded or "")
    if not admin or not found:
        return "none"
    if found.group(1, 2) != admin.group(1, 2) or found.group(3) == admin.group(3):
        return "none"
    return recorded


def has_profile(association, profile):
    """Whether ``association`` is with ``profile`` (a name or an ARN)."""
    if not association:
        return False
    arn = association.get("IamInstanceProfile", {}).get("Arn", "")
    if profile.startswith("arn:"):
        return arn == profile
    return arn.rsplit("/", 1)[-1] == profile


def associated_with(profile):
    """The wait condition: the association with ``profile`` reads back as associated."""
    return lambda association: has_profile(association, profile) and association["State"] == "associated"


def to_ansible(association):
    return camel_dict_to_snake_dict(association) if association else {}


def wait_for(client, instance_id, done, timeout, sleep=time.sleep, clock=time.monotonic):
    """Read the association until ``done(association)``; raise after ``timeout`` seconds."""
    deadline = clock() + timeout
    while True:
        association = read_association(client, instance_id)
        if done(association):
            return association
        if clock() >= deadline:
            raise AnsibleEC2Error(message=f"Timeout waiting for the instance profile association of {instance_id}")
        sleep(POLL_SECONDS)


def not_propagated(error):
    """Whether an AnsibleEC2Error is EC2 not knowing the instance profile (yet)."""
    exception = getattr(error, "exception", None)
    if not isinstance(exception, botocore.exceptions.ClientError):
        return False
    details = exception.response.get("Error", {})
    return details.get("Code") == PROPAGATION_CODE and PROPAGATION_MESSAGE in details.get("Message", "")


def until_propagated(call, profile, timeout, sleep=time.sleep, clock=time.monotonic):
    """Return ``call()``, calling it again with backoff while EC2 does not know ``profile``, for ``timeout`` seconds."""
    deadline = clock() + timeout
    delay = 1
    while True:
        try:
            return call()
        except AnsibleEC2Error as e:
            left = deadline - clock()
            if not not_propagated(e):
                raise
            if left <= 0:
                refusal = e.exception.response["Error"].get("Message", "")
                raise AnsibleEC2Error(
                    message=f"EC2 still refuses the instance profile {profile} after {timeout} seconds ({refusal}):"
                    " the instance profile may not exist, or IAM has not propagated it to EC2 yet",
                    exception=e.exception,
                ) from e
            sleep(min(delay, left))
            delay = min(delay * 2, PROPAGATION_MAX_DELAY)


def _no_guard():
    pass


def ensure_present(
    client, instance_id, profile, current, wait=True, wait_timeout=120, check_mode=False, sleep=time.sleep, clock=time.monotonic, guard=_no_guard
):
    """Associate the instance with ``profile``; ``current`` is its association read before. Returns ``(changed, association)``.
    ``guard()`` (the caller check) runs when a change is due, also in check mode."""
    if has_profile(current, profile):
        if wait and current.get("State") != "associated" and not check_mode:
            current = wait_for(client, instance_id, associated_with(profile), wait_timeout)
        return False, current
    guard()
    if check_mode:
        predicted = {"InstanceId": instance_id, "State": "associated", "IamInstanceProfile": {"Arn": profile}}
        if current:
            predicted["AssociationId"] = current.get("AssociationId")
        return True, scrub_none_parameters(predicted)
    if current:
        swap = functools.partial(replace_iam_instance_profile_association, client, profile_spec(profile), current["AssociationId"])
    else:
        swap = functools.partial(associate_iam_instance_profile, client, profile_spec(profile), instance_id)
    started = clock()
    association = until_propagated(swap, profile, wait_timeout if wait else PROPAGATION_SECONDS, sleep, clock)
    if wait:
        # One wait_timeout for both waits.
        left = max(wait_timeout - (clock() - started), 0)
        association = wait_for(client, instance_id, associated_with(profile), left, sleep, clock)
    return True, association


def ensure_absent(client, instance_id, current, wait=True, wait_timeout=120, check_mode=False, guard=_no_guard):
    """Remove the instance's association ``current`` (read before). Returns ``(changed, None)``; ``guard()`` as above."""
    if not current:
        return False, None
    guard()
    if not check_mode:
        disassociate_iam_instance_profile(client, current["AssociationId"])
        if wait:
            wait_for(client, instance_id, lambda association: association is None, wait_timeout)
    return True, None
