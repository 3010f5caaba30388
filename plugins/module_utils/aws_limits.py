# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS's documented limits on the names, tags, descriptions and documents the modules send.

Each ``*_problem`` function returns ``None`` when AWS would accept the value, else a message naming
the option and the limit; the caller raises it as its service's error, before any call. The AWS
emulator used in tests accepts much of what these refuse, so the limits are AWS's documentation's:

- Parameter Store: "Understanding parameter name requirements and constraints" and PutParameter
  (the 1011 characters include the ARN before the name; 15 hierarchy levels; description 1024).
- IAM: "IAM and AWS STS quotas, name requirements, and character limits" (policy sizes without
  white space) and TagRole/TagUser; tags follow the same rules in Parameter Store and CloudWatch Logs.
- KMS ``KeyId``, IAM ``AccessKeyId`` and EC2 instance ids: their API references.
"""

import json
import re
import unicodedata

from ansible.module_utils.common.text.converters import to_text

PARAMETER_ARN_LIMIT = 1011
PARAMETER_DEPTH = 15
PARAMETER_DESCRIPTION_LIMIT = 1024
TAG_COUNT_LIMIT = 50
TAG_KEY_LIMIT = 128
TAG_VALUE_LIMIT = 256
INLINE_POLICIES_LIMIT = {"role": 10240, "user": 2048}
TRUST_POLICY_LIMIT = 2048
KMS_KEY_ID_LIMIT = 2048
ACCESS_KEY_ID_LENGTH = (16, 128)

_PARAMETER_NAME_RE = re.compile(r"[a-zA-Z0-9_.\-/]+")
_TAG_SYMBOLS = "_.:/=+-@"
_KMS_KEY_RE = re.compile(
    r"(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?(?:key/)?(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
    r"|(?:arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:)?alias/[a-zA-Z0-9/_-]{1,250}"
)
_ACCESS_KEY_ID_RE = re.compile(r"\w+", re.ASCII)
_INSTANCE_ID_RE = re.compile(r"i-(?:[0-9a-f]{8}|[0-9a-f]{17})")
_PROFILE_ARN_RE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:instance-profile/(?:[\x21-\x7e]{1,510}/)?[\w+=,.@-]{1,128}", re.ASCII)
_PROFILE_NAME_RE = re.compile(r"[\w+=,.@-]{1,128}", re.ASCII)

# A region's partition by its name's prefix: the ARN before a parameter's name counts towards its length.
_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"),
               ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f"), ("eusc-", "aws-eusc"))
_LONGEST_PARTITION = "aws-us-gov"
_LONGEST_REGION = "x" * 16


def parameter_arn_prefix(region=None):
    """The ARN before a parameter's name in ``region``; without a region, as long as any can be."""
    if not region:
        return f"arn:{_LONGEST_PARTITION}:ssm:{_LONGEST_REGION}:123456789012:parameter/"
    partition = next((p for prefix, p in _PARTITIONS if region.startswith(prefix)), "aws")
    return f"arn:{partition}:ssm:{region}:123456789012:parameter/"


def parameter_name_problem(name, option, region=None):
    """Parameter Store's name rules: characters, the aws/ssm prefixes, depth, length with the ARN."""
    if not name:
        return f"{option} must not be empty"
    if not _PARAMETER_NAME_RE.fullmatch(name):
        return f"{option} {name!r} is not a valid SSM parameter name: only letters, digits and _.-/ (no spaces)"
    if "/" in name and not name.startswith("/"):
        return f"{option} {name!r} is not a valid SSM parameter name: a hierarchical name starts with /"
    bare = name.lstrip("/")
    if bare.lower().startswith(("aws", "ssm")):
        return f"{option} {name!r}: a parameter name may not start with aws or ssm (in any case)"
    depth = name.count("/")
    if depth > PARAMETER_DEPTH:
        return f"{option} {name!r}: a parameter hierarchy has at most {PARAMETER_DEPTH} levels, this one has {depth}"
    prefix = parameter_arn_prefix(region)
    room = PARAMETER_ARN_LIMIT - len(prefix)
    if len(bare) > room:
        where = f"in {region}" if region else "when the region is not known (the longest partition and region assumed)"
        return (
            f"{option}: the parameter name has {len(bare)} characters, {room} at most {where}: Parameter Store limits "
            f"the name with the ARN before it ({prefix.replace('123456789012', 'ACCOUNT').replace(_LONGEST_REGION, 'REGION')}NAME) to "
            f"{PARAMETER_ARN_LIMIT} characters"
        )
    return None


def parameter_description_problem(description, option="description"):
    if description is not None and len(description) > PARAMETER_DESCRIPTION_LIMIT:
        return f"{option} has {len(description)} characters; Parameter Store allows at most {PARAMETER_DESCRIPTION_LIMIT}"
    return None


def _tag_text_ok(text):
    return all(c in _TAG_SYMBOLS or unicodedata.category(c)[0] in "LNZ" for c in text)


def tags_problem(tags, option="tags", added=None):
    """The tag rules IAM, Parameter Store and CloudWatch Logs share: 50 tags, keys of 1 to 128 and values
    of 0 to 256 letters, digits, spaces or _.:/=+-@, no key starting with aws: (reserved). ``added`` are
    the tags the collection adds itself, which count towards the 50."""
    if not tags:
        return None
    extra = sorted(set(added or ()) - set(tags))
    if len(tags) + len(extra) > TAG_COUNT_LIMIT:
        besides = f" with {', '.join(extra)}, which the collection adds" if extra else ""
        return f"{option}: at most {TAG_COUNT_LIMIT} tags per resource, got {len(tags) + len(extra)}{besides}"
    allowed = "letters, digits, spaces and _.:/=+-@"
    for key, value in tags.items():
        key, value = to_text(key), to_text(value)
        if not key or len(key) > TAG_KEY_LIMIT or key.lower().startswith("aws:"):
            return f"{option}: tag key {key!r} must be 1 to {TAG_KEY_LIMIT} characters and must not start with aws:"
        if not _tag_text_ok(key):
            return f"{option}: tag key {key!r} may hold only {allowed}"
        if len(value) > TAG_VALUE_LIMIT:
            return f"{option}: the value of tag {key!r} is longer than {TAG_VALUE_LIMIT} characters ({len(value)})"
        if not _tag_text_ok(value):
            return f"{option}: the value of tag {key!r} may hold only {allowed}"
    return None


def policy_size(document):
    """A policy's size as IAM counts it: its JSON without the white space between tokens, which IAM does
    not count (spaces inside strings count)."""
    if document is None:
        return 0
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return len("".join(document.split()))
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False))


def inline_policies_problem(kind, documents, option="inline policies"):
    """The inline policies of a role (10,240 characters) or user (2,048), all together."""
    limit = INLINE_POLICIES_LIMIT.get(kind)
    total = sum(policy_size(d) for d in (documents or {}).values())
    if limit and total > limit:
        names = ", ".join(sorted(documents))
        return (
            f"{option} ({names}) of the {kind} come to {total} characters without white space; IAM allows "
            f"{limit} for all the inline policies of a {kind} together"
        )
    return None


def trust_policy_problem(document, option="trust policy"):
    size = policy_size(document)
    if size > TRUST_POLICY_LIMIT:
        return (
            f"{option} of the role comes to {size} characters without white space; IAM allows {TRUST_POLICY_LIMIT} "
            "(the default quota 'Role trust policy length'; trust fewer principals, or raise the quota and the check)"
        )
    return None


def kms_key_id_problem(key_id, option="kms_key_id"):
    """A KMS key id, key ARN, alias name or alias ARN (``KeyId``: 1 to 2048 characters)."""
    if not key_id:
        return None
    if len(key_id) > KMS_KEY_ID_LIMIT or not _KMS_KEY_RE.fullmatch(key_id):
        return (
            f"{option} {key_id!r} is not a KMS key: give a key id (a UUID or mrk-...), a key ARN, alias/NAME or an "
            f"alias ARN, at most {KMS_KEY_ID_LIMIT} characters"
        )
    return None


def access_key_id_problem(key_id, option):
    low, high = ACCESS_KEY_ID_LENGTH
    if not isinstance(key_id, str) or not low <= len(key_id) <= high or not _ACCESS_KEY_ID_RE.fullmatch(key_id):
        return f"{option}: {key_id!r} is not an access key id ({low} to {high} letters, digits or _)"
    return None


def instance_id_problem(instance_id, option="instance_id"):
    if not _INSTANCE_ID_RE.fullmatch(instance_id or ""):
        return f"{option} {instance_id!r} is not an EC2 instance id (i- and 8 or 17 hexadecimal digits)"
    return None


def instance_profile_problem(profile, option="instance_profile"):
    """An instance profile's name (1 to 128 of letters, digits and +=,.@_-) or ARN."""
    if profile is None:
        return None
    pattern = _PROFILE_ARN_RE if profile.startswith("arn:") else _PROFILE_NAME_RE
    if not pattern.fullmatch(profile):
        return (
            f"{option} {profile!r} is neither an instance profile name (1 to 128 letters, digits and +=,.@_-) "
            "nor an instance profile ARN (arn:aws:iam::ACCOUNT_ID:instance-profile/PATH/NAME)"
        )
    return None
