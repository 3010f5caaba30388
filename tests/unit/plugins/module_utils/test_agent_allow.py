# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a configuration may ask of a host: each allow-list rule on plain data, accepted and refused."""

import json

import pytest

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_plan import AgentPlanError

PREFIX = "/opt/aws/amazon-cloudwatch-agent"
DEFAULTS = {"run_as_users": ["cwagent", "root"], "endpoints": [], "log_paths": ["/var/log/**"]}


def doc(config, name="AmazonCloudWatch-linux"):
    return agent_plan.downloaded(name, json.dumps(config))


def check(*configs, **allowed):
    agent_plan.check_allowed([doc(config) for config in configs], dict(DEFAULTS, **allowed), PREFIX)


def files(*paths):
    return {"logs": {"logs_collected": {"files": {"collect_list": [{"file_path": path} for path in paths]}}}}


def collectd(types_db):
    return {"metrics": {"metrics_collected": {"collectd": {"collectd_typesdb": types_db}}}}


# --- run_as_user -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("user", ["cwagent", "root"])
def test_the_default_users_are_accepted(user):
    check({"agent": {"run_as_user": user}})


def test_another_user_is_refused_naming_parameter_key_value_and_variable():
    with pytest.raises(AgentPlanError) as e:
        check({"agent": {"run_as_user": "www-data"}})
    assert ('- parameter AmazonCloudWatch-linux: agent.run_as_user is "www-data", not in '
            "cloudwatch_agent_allowed_run_as_users (cwagent, root)") in str(e.value)


def test_a_user_the_inventory_adds_is_accepted():
    check({"agent": {"run_as_user": "www-data"}}, run_as_users=["www-data"])


def test_no_user_means_root_which_must_be_allowed():
    check({"metrics": {}})
    with pytest.raises(AgentPlanError, match=r"agent.run_as_user is null, unset, so the agent runs as root, which is not in "
                                             r"cloudwatch_agent_allowed_run_as_users"):
        check({"metrics": {}}, run_as_users=["cwagent"])
    # A second document giving the user is enough: the agent runs as the one user.
    check({"metrics": {}}, {"agent": {"run_as_user": "cwagent"}}, run_as_users=["cwagent"])


# --- endpoint_override / proxy_override ------------------------------------------------------------------------------
@pytest.mark.parametrize("section", ["metrics", "logs", "traces"])
def test_any_endpoint_override_is_refused_by_default(section):
    with pytest.raises(AgentPlanError, match=r'%s.endpoint_override is "https://collector.example.net", not in '
                                             r"cloudwatch_agent_allowed_endpoints \(empty\)" % section):
        check({section: {"endpoint_override": "https://collector.example.net"}})


def test_an_endpoint_override_anywhere_is_checked():
    nested = {"opentelemetry": {"exporters": [{"endpoint_override": "https://collector.example.net"}]}}
    with pytest.raises(AgentPlanError, match=r"opentelemetry.exporters\[0\].endpoint_override"):
        check(nested)


def test_a_proxy_override_is_an_endpoint_too():
    with pytest.raises(AgentPlanError, match="traces.proxy_override"):
        check({"traces": {"proxy_override": "http://proxy.example.net:3128"}})


def test_an_allowed_endpoint_is_accepted_exactly_as_written():
    vpce = "vpce-0123456789abcdef0-abcdefgh.logs.us-east-1.vpce.amazonaws.com"
    check({"logs": {"endpoint_override": vpce}}, endpoints=[vpce])
    with pytest.raises(AgentPlanError, match="logs.endpoint_override"):
        check({"logs": {"endpoint_override": "https://" + vpce}}, endpoints=[vpce])


# --- collected file paths --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/var/log/syslog", "/var/log/nginx/access.log", "/var/log/app/trace-*.log",
                                  "/var/log/**/*.log", "/var/log/[a-z]*.log"])
def test_files_under_var_log_are_accepted(path):
    check(files(path))


@pytest.mark.parametrize("path", ["/root/.bash_history", "/etc/shadow", "/var/log/../../etc/shadow", "/var/*/shadow",
                                  "/var/log", "var/log/syslog", "/var/log/{a,../../etc/shadow}", "/**"])
def test_files_outside_the_globs_are_refused(path):
    with pytest.raises(AgentPlanError) as e:
        check(files("/var/log/syslog", path))
    assert ("logs.logs_collected.files.collect_list[1].file_path is %s, outside cloudwatch_agent_allowed_log_paths "
            "(/var/log/**)" % json.dumps(path)) in str(e.value)
    assert "collect_list[0]" not in str(e.value)


@pytest.mark.parametrize("pattern, path, allowed", [
    ("/var/log/*", "/var/log/syslog", True),
    ("/var/log/*", "/var/log/*.log", True),
    ("/var/log/*", "/var/log/nginx/access.log", False),
    ("/var/log/*", "/var/log/**", False),
    ("/var/log/*.log", "/var/log/**.log", False),
    ("/var/log/app?.log", "/var/log/app1.log", True),
    ("/var/log/app?.log", "/var/log/app*.log", False),
    ("/srv/*/logs/**", "/srv/shop/logs/2024/a.log", True),
    ("/srv/*/logs/**", "/srv/shop/data/a.log", False),
])
def test_a_files_own_wildcards_must_stay_inside_the_glob(pattern, path, allowed):
    assert agent_plan.glob_match(pattern, path) is allowed


def test_a_glob_the_inventory_adds_is_accepted():
    check(files("/srv/shop/logs/app.log"), log_paths=["/var/log/**", "/srv/*/logs/**"])


def test_a_file_path_anywhere_is_checked():
    otel = {"opentelemetry": {"collect": {"files": {"collect_list": [{"file_path": "/home/alice/.ssh/id_rsa"}]}}}}
    with pytest.raises(AgentPlanError, match=r"opentelemetry.collect.files.collect_list\[0\].file_path"):
        check(otel)


# --- collectd's types.db and the agent's own log -------------------------------------------------------------------------
def test_types_db_under_collectds_directory_is_accepted():
    check(collectd(["/usr/share/collectd/types.db", "/usr/share/collectd/custom/types.db"]))
    check({"metrics": {"metrics_collected": {"collectd": {}}}})


@pytest.mark.parametrize("path", ["/etc/collectd/types.db", "/usr/share/collectd/../../../etc/ssl/private/types.db",
                                  "/usr/share/collectdx/types.db", "types.db"])
def test_types_db_elsewhere_is_refused_whatever_the_inventory(path):
    with pytest.raises(AgentPlanError) as e:
        check(collectd(["/usr/share/collectd/types.db", path]), log_paths=["/**"])
    assert ("metrics.metrics_collected.collectd.collectd_typesdb[1] is %s, outside /usr/share/collectd/, where collectd "
            "keeps it; no variable widens this" % json.dumps(path)) in str(e.value)


def test_the_agents_log_file_stays_in_its_logs_directory():
    check({"agent": {"logfile": PREFIX + "/logs/amazon-cloudwatch-agent.log"}})
    check({"agent": {"logfile": ""}})
    with pytest.raises(AgentPlanError, match=r'agent.logfile is "/etc/cron.d/agent", outside the agent\'s own '
                                             r"/opt/aws/amazon-cloudwatch-agent/logs/"):
        check({"agent": {"logfile": "/etc/cron.d/agent"}})


# --- the message and the allow-lists themselves ----------------------------------------------------------------------------
def test_every_refusal_of_every_document_is_named_once():
    docs = [doc({"agent": {"run_as_user": "www-data"}}, "AmazonCloudWatch-a"),
            doc(dict(files("/root/x.log"), metrics={"endpoint_override": "https://x.example"}), "AmazonCloudWatch-b")]
    with pytest.raises(AgentPlanError) as e:
        agent_plan.check_allowed(docs, DEFAULTS, PREFIX)
    lines = str(e.value).splitlines()
    assert lines[0].startswith("The configuration asks for what the inventory does not allow; the host keeps")
    assert [line.split(":")[0] for line in lines[1:4]] == ["- parameter AmazonCloudWatch-a", "- parameter AmazonCloudWatch-b",
                                                           "- parameter AmazonCloudWatch-b"]
    assert len(lines) == 5


def test_an_inline_configuration_is_named_by_its_variable():
    docs = agent_plan.documents({"config_source": "inline", "config": {"agent": {"run_as_user": "www-data"}}})
    with pytest.raises(AgentPlanError, match="- cloudwatch_agent_config: agent.run_as_user"):
        agent_plan.check_allowed(docs, DEFAULTS, PREFIX)


@pytest.mark.parametrize("name, value, message", [
    ("run_as_users", "cwagent", 'cloudwatch_agent_allowed_run_as_users must be a list of user names such as cwagent; got "cwagent"'),
    ("run_as_users", ["cw agent"], "cloudwatch_agent_allowed_run_as_users must be a list of user names"),
    ("endpoints", [""], "cloudwatch_agent_allowed_endpoints must be a list of endpoints"),
    ("endpoints", None, "cloudwatch_agent_allowed_endpoints must be a list"),
    ("log_paths", ["var/log/**"], "cloudwatch_agent_allowed_log_paths must be a list of absolute globs without .."),
    ("log_paths", ["/var/log/../../**"], "cloudwatch_agent_allowed_log_paths must be a list of absolute globs"),
])
def test_bad_allow_lists_are_refused_naming_the_variable(name, value, message):
    with pytest.raises(AgentPlanError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        agent_plan.allow_lists(dict(DEFAULTS, **{name: value}))
