# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_defaults for group/observability.cloudwatch.aws reach every IAM module of the collection."""

import json
import subprocess
from pathlib import Path

PLAYBOOK = Path(__file__).parent / "playbooks" / "iam_module_defaults.yml"


def test_region_and_endpoint_from_module_defaults(aws, ansible):
    env = ansible.environment()
    for name in ("AWS_URL", "AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        env.pop(name, None)
    extra = {"defaults_region": "eu-west-1", "defaults_endpoint_url": aws.url}
    completed = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", str(PLAYBOOK), "-e", json.dumps(extra)],
        env=env,
        cwd=ansible.workdir,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert aws.client("iam").get_role(RoleName="CloudWatchAgentServerRole")["Role"]
    parameter = aws.client("ssm", region_name="eu-west-1").get_parameter(Name="/agent/defaults-user")["Parameter"]
    assert parameter["Type"] == "SecureString"
