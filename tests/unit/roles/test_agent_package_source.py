# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the agent role downloads the package for each OS and architecture (AWS's bucket layout).

The containers here are Debian only, so the download paths of the other platforms are checked by
rendering the role's own variables with Ansible's templating for their facts.
"""

from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = Path(__file__).resolve().parents[3] / "roles" / "agent"


def trusted(value):
    """The role's variable files, trusted as templates the way Ansible trusts a role's own files."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return {key: trusted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def render(expression, facts, **overrides):
    loader = DataLoader()
    variables = {}
    for layer in ("defaults", "vars"):
        variables.update(trusted(loader.load_from_file(str(ROLE / layer / "main.yml"))))
    variables.update(overrides)
    variables["ansible_facts"] = facts
    return Templar(loader=loader, variables=variables).template(trust_as_template(expression))


def package_url(facts, **overrides):
    return render(
        "{{ [__cloudwatch_agent_base_url, __cloudwatch_agent_os_path, __cloudwatch_agent_arch, 'latest', __cloudwatch_agent_package_name] | join('/') }}",
        facts,
        **overrides,
    )


@pytest.mark.parametrize(
    "distribution, os_family, architecture, expected",
    [
        ("Debian", "Debian", "x86_64", "debian/amd64/latest/amazon-cloudwatch-agent.deb"),
        # The paths AWS's "Download the CloudWatch agent package" page lists, debian/arm64 among them.
        ("Debian", "Debian", "aarch64", "debian/arm64/latest/amazon-cloudwatch-agent.deb"),
        ("Ubuntu", "Debian", "aarch64", "ubuntu/arm64/latest/amazon-cloudwatch-agent.deb"),
        ("Amazon", "RedHat", "x86_64", "amazon_linux/amd64/latest/amazon-cloudwatch-agent.rpm"),
        ("Amazon", "RedHat", "aarch64", "amazon_linux/arm64/latest/amazon-cloudwatch-agent.rpm"),
        ("CentOS", "RedHat", "x86_64", "centos/amd64/latest/amazon-cloudwatch-agent.rpm"),
        # and no centos/arm64: redhat/arm64 serves it.
        ("CentOS", "RedHat", "aarch64", "redhat/arm64/latest/amazon-cloudwatch-agent.rpm"),
        ("RedHat", "RedHat", "x86_64", "redhat/amd64/latest/amazon-cloudwatch-agent.rpm"),
        ("Rocky", "RedHat", "aarch64", "redhat/arm64/latest/amazon-cloudwatch-agent.rpm"),
        ("OracleLinux", "RedHat", "x86_64", "oracle_linux/amd64/latest/amazon-cloudwatch-agent.rpm"),
        # and no oracle_linux/arm64: redhat/arm64 serves it.
        ("OracleLinux", "RedHat", "aarch64", "redhat/arm64/latest/amazon-cloudwatch-agent.rpm"),
        ("SLES", "Suse", "aarch64", "suse/arm64/latest/amazon-cloudwatch-agent.rpm"),
        ("SLES", "Suse", "x86_64", "suse/amd64/latest/amazon-cloudwatch-agent.rpm"),
    ],
)
def test_official_download_path_per_platform(distribution, os_family, architecture, expected):
    facts = {"distribution": distribution, "os_family": os_family, "architecture": architecture}
    assert package_url(facts) == "https://amazoncloudwatch-agent.s3.amazonaws.com/" + expected


def test_regional_bucket_and_mirror():
    facts = {"distribution": "Ubuntu", "os_family": "Debian", "architecture": "x86_64"}
    assert package_url(facts, cloudwatch_agent_package_bucket_region="eu-west-1").startswith(
        "https://amazoncloudwatch-agent-eu-west-1.s3.eu-west-1.amazonaws.com/ubuntu/amd64/"
    )
    # One mirror value serves a mixed fleet: the OS and architecture are appended as in AWS's bucket.
    assert package_url(facts, cloudwatch_agent_package_base_url="https://mirror.example.com/cwagent/") == (
        "https://mirror.example.com/cwagent/ubuntu/amd64/latest/amazon-cloudwatch-agent.deb"
    )


def test_unsupported_platform_has_no_path():
    facts = {"distribution": "Gentoo", "os_family": "Gentoo", "architecture": "x86_64"}
    assert render("{{ __cloudwatch_agent_os_path }}", facts) == ""
