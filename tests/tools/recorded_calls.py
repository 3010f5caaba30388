# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print, as JSON, the AWS calls the moto server recorded since recording (re)started.

    recorded_calls.py URL start   # reset and start moto's request recording
    recorded_calls.py URL         # [{"operation": ..., "access_key_id": ...}, ...] without stopping it

Used by the role's Molecule verify playbooks on the controller.
"""

import importlib.util
import json
import sys
import urllib.request
from pathlib import Path

_spec = importlib.util.spec_from_file_location("local_aws", Path(__file__).with_name("local_aws.py"))
local_aws = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(local_aws)


def calls(url):
    with urllib.request.urlopen(url + "/moto-api/recorder/download-recording", timeout=30) as response:
        lines = response.read().decode().splitlines()
    return [local_aws._describe_call(json.loads(line)) for line in lines if line.strip()]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[2] == "start":
        local_aws.start_recording(sys.argv[1])
    elif len(sys.argv) == 2:
        print(json.dumps(calls(sys.argv[1])))
    else:
        sys.exit(__doc__)
