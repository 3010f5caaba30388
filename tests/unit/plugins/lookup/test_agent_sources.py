# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""observability.cloudwatch.agent_sources: each key store and parameter is read once for a play's batches."""

from unittest.mock import patch

from ansible_collections.observability.cloudwatch.plugins.lookup.agent_sources import LookupModule

from ..plugin_utils.test_agent_host import KEY, settings


class Stores(object):
    """Stand-ins for the access_key and ssm_parameter lookups, recording each read."""

    def __init__(self):
        self.reads = []

    def get(self, name, **kwargs):
        stores = self

        class Lookup(object):
            def run(self, terms, variables=None, **options):
                stores.reads.append((name, list(terms), options.get("region")))
                return [KEY if name.endswith("access_key") else '{"agent": {}}' for term in terms]
        return Lookup()


def read(stores, variables, **options):
    with patch("ansible_collections.observability.cloudwatch.plugins.lookup.agent_sources.lookup_loader", stores):
        return LookupModule().run([], variables=variables, **options)[0]


def needs(**changes):
    return {"__cloudwatch_agent_needs": LookupModule().run([], variables={}, settings=settings(**changes), needs=True)[0]}


def test_the_batch_reads_each_store_once_and_a_later_batch_none():
    stores = Stores()
    s = settings(access_key_store="ssm:/keys/a")
    hostvars = {"h1": needs(access_key_store="ssm:/keys/a"), "h2": {}, "h3": needs(access_key_store="ssm:/keys/b")}
    first = read(stores, {"hostvars": hostvars, "ansible_play_batch": ["h1", "h2"]}, settings=s)
    assert stores.reads == [("observability.cloudwatch.access_key", ["ssm:/keys/a"], "eu-west-1")]
    assert first["key_pairs"] == {"ssm:/keys/a|eu-west-1": KEY} and first["seen"] == ["h1", "h2"]
    stores.reads = []
    second = read(stores, {"hostvars": hostvars, "ansible_play_batch": ["h1", "h3"]}, settings=s, known=first)
    assert stores.reads == [("observability.cloudwatch.access_key", ["ssm:/keys/b"], "eu-west-1")]
    assert set(second["key_pairs"]) == {"ssm:/keys/a|eu-west-1", "ssm:/keys/b|eu-west-1"} and second["seen"] == ["h1", "h2", "h3"]


def test_parameters_are_read_once_per_region_and_key_pairs_only_when_asked():
    stores = Stores()
    s = settings(config_source="ssm", ssm_fetch="controller", ssm_parameters=["AmazonCloudWatch-a", "AmazonCloudWatch-b"],
                 ssm_parameter_values={"AmazonCloudWatch-b": {}}, access_key_store="ssm:/keys/a")
    result = read(stores, {"hostvars": {"h1": {}, "h2": {}}, "ansible_play_batch": ["h1", "h2"]}, settings=s, key_pairs=False)
    assert stores.reads == [("amazon.aws.ssm_parameter", ["AmazonCloudWatch-a"], "eu-west-1")]
    assert result == {"key_pairs": {}, "parameters": {"AmazonCloudWatch-a": '{"agent": {}}'}, "seen": ["h1", "h2"]}


def test_each_host_is_read_for_with_its_own_settings_include_variables_counted():
    """What the role's include or role variables set for a host is in the needs it noted, not in its inventory."""
    stores = Stores()
    ssm = dict(config_source="ssm", ssm_fetch="controller", config={})
    hostvars = {
        "h1": dict(needs(ssm_parameters=["AmazonCloudWatch-included"], **ssm), cloudwatch_agent_ssm_parameters=["AmazonCloudWatch-inventory"]),
        "h2": needs(ssm_parameters=["AmazonCloudWatch-other"], region="us-east-1", **ssm),
    }
    s = settings(ssm_parameters=["AmazonCloudWatch-included"], **ssm)
    result = read(stores, {"hostvars": hostvars, "ansible_play_batch": ["h1", "h2"]}, settings=s, key_pairs=False)
    assert stores.reads == [("amazon.aws.ssm_parameter", ["AmazonCloudWatch-included"], "eu-west-1"),
                            ("amazon.aws.ssm_parameter", ["AmazonCloudWatch-other"], "us-east-1")]
    assert sorted(result["parameters"]) == ["AmazonCloudWatch-included", "AmazonCloudWatch-other"]


def test_noting_the_needs_reads_nothing_and_holds_no_secret():
    stores = Stores()
    with patch("ansible_collections.observability.cloudwatch.plugins.lookup.agent_sources.lookup_loader", stores):
        noted = LookupModule().run([], variables={}, settings=settings(access_key_store="ssm:/keys/a"), needs=True)[0]
    assert stores.reads == [] and noted == {"keys": {"ssm:/keys/a|eu-west-1": ["ssm:/keys/a", "eu-west-1"]}, "parameters": {}}
