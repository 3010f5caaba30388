# -*- coding: utf-8 -*-

# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Another writer of an SSM parameter between a read and a write, found after the write.

Parameter Store has no conditional write: PutParameter with Overwrite replaces whatever is there. But
every write makes exactly one new version and PutParameter returns it, so a write planned on version V
that gets a version other than V + 1 had another writer in between; the value it replaced stays in the
parameter's history. A create (Overwrite false) refused with ParameterAlreadyExists lost the same race
before writing anything.

An attempt is a dict: ``read`` (the version the write was planned on, 0 when the parameter did not
exist), ``wrote`` (the version the write got, None when the create was refused) and ``after`` (the
version read again after the write, None when it was not read again).
"""

try:
    import botocore
except ImportError:
    pass  # Modules are responsible for handling this.

from ansible_collections.observability.cloudwatch.plugins.module_utils.ssm import AnsibleSSMError

FAIL = "fail"
RETRY = "retry"
ON_CONFLICT_CHOICES = [FAIL, RETRY]
# Writes in all, the first one included, before on_conflict=retry gives up.
MAX_ATTEMPTS = 3


class AnsibleSSMConflictError(AnsibleSSMError):
    """Another writer wrote the parameter while this run published it. ``parameter`` is what this run
    wrote last (``name``, and ``version`` when a write of this run got one)."""

    def __init__(self, message, parameter):
        super().__init__(message=message)
        self.parameter = parameter


def lost_create_race(error):
    """Whether an AnsibleSSMError is PutParameter refusing a create because the parameter exists."""
    exception = getattr(error, "exception", None)
    if not isinstance(exception, botocore.exceptions.ClientError):
        return False
    return exception.response.get("Error", {}).get("Code") == "ParameterAlreadyExists"


def attempt(read, wrote):
    return {"read": read, "wrote": wrote, "after": None}


def is_conflict(entry):
    return entry["wrote"] != entry["read"] + 1


def other_versions(attempts):
    """The versions another writer made during the attempts, in order."""
    versions = []
    for entry in attempts:
        read, wrote, after = entry["read"], entry["wrote"], entry["after"]
        if wrote is None:
            upto = after or 0
        else:
            versions.extend(range(read + 1, wrote))
            read, upto = wrote, after or 0
        versions.extend(range(read + 1, upto + 1))
    return versions


def _versions(versions):
    if not versions:
        return "no version left (the parameter was deleted meanwhile, and its history with it)"
    words = ", ".join(str(v) for v in versions)
    return f"version{'s' if len(versions) > 1 else ''} {words}"


def _attempt_story(entry):
    read = f"read version {entry['read']}" if entry["read"] else "found no parameter"
    if entry["wrote"] is None:
        story = f"{read}, and its create was refused: another writer had created it (nothing written)"
    else:
        story = f"{read} and its write got version {entry['wrote']}"
    if entry["after"] is not None and entry["after"] != entry["wrote"]:
        story += f", then read version {entry['after']} written by another writer"
    return story


def conflict_error(name, region, attempts):
    """The failure: what each write of this run read and got, whose value is current, where the rest is."""
    last = attempts[-1]
    others = other_versions(attempts)
    ours = [entry["wrote"] for entry in attempts if entry["wrote"] is not None]
    parameter = {"name": name}
    if ours:
        parameter["version"] = ours[-1]
    if len(attempts) == 1:
        told = f"this run {_attempt_story(last)}"
    else:
        told = "; ".join(f"write {number} {_attempt_story(entry)}" for number, entry in enumerate(attempts, start=1))
        told = f"{len(attempts)} writes, each overtaken: {told}"
    if last["wrote"] is not None and last["after"] in (None, last["wrote"]):
        current = (
            f"This run's value is current (version {last['wrote']}); the other writer's value is kept in the"
            f" parameter's history as {_versions(others)} (see restore_version)."
        )
    elif last["after"] == 0:
        current = "Another writer deleted the parameter after this run's write."
    else:
        current = "The other writer's value is current"
        current += f" (version {last['after']})" if last["after"] else ""
        current += f"; this run's value is in the history as version {ours[-1]}." if ours else "; this run wrote nothing."
    message = (
        f"Another writer changed the parameter {name} in {region} while this run published it: {told}. {current}"
        " Parameter Store has no conditional write, so this is found after the write"
    )
    if len(attempts) < MAX_ATTEMPTS:
        message += "; on_conflict=retry reads it again and writes again if needed."
    else:
        message += "."
    return AnsibleSSMConflictError(message, parameter)


def conflict_warning(name, region, attempts):
    """The warning of a publish that ended with its value current after another writer wrote meanwhile."""
    return (
        f"Another writer changed the parameter {name} in {region} while this run published it"
        f" ({_versions(other_versions(attempts))}); the parameter now holds this run's configuration, and the"
        " other writer's values are kept in its history."
    )
