# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The cloudwatch_restore_profile filter, as a role's template uses it."""

from ansible_collections.observability.cloudwatch.plugins.filter.cloudwatch_restore_profile import FilterModule

ADMIN = "arn:aws:iam::123456789012:instance-profile/CloudWatchAgentAdminProfile"
SERVER = "arn:aws:iam::123456789012:instance-profile/CloudWatchAgentServerProfile"


def test_gives_back_another_profile_of_the_account_and_none_for_anything_else():
    restore = FilterModule().filters()["cloudwatch_restore_profile"]
    assert restore(SERVER, ADMIN) == SERVER
    assert restore("none", ADMIN) == "none"
    assert restore(ADMIN, ADMIN) == "none"
    assert restore(SERVER.replace("123456789012", "210987654321"), ADMIN) == "none"
    assert restore(None, ADMIN) == "none"
