# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sample, until OUT.stop exists, the key id each host's credentials file holds and every key of USER.

    key_watch.py OUT USER HOST[,HOST...]

One JSON line per sample: {"t": ..., "keys": {id: status}, "hosts": {host: id or null}}. The keys are read
after the files: a key that is Active then was Active when the file was read. Only key ids are written.
"""

import json
import os
import re
import subprocess
import sys
import time

import boto3

CREDENTIALS = "/etc/observability.cloudwatch/credentials"


def host_key(host):
    out = subprocess.run(["podman", "exec", host, "cat", CREDENTIALS], capture_output=True, text=True, check=False).stdout  # no file yet: None
    match = re.search(r"aws_access_key_id\s*=\s*(\S+)", out)
    return match.group(1) if match else None


def main(out, user, hosts):
    iam = boto3.client("iam", region_name="us-east-1")
    stop = out + ".stop"
    for path in (out, stop):
        if os.path.exists(path):
            os.remove(path)
    deadline = time.time() + 590
    with open(out, "w") as handle:
        while not os.path.exists(stop) and time.time() < deadline:
            configured = {host: host_key(host) for host in hosts}
            keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
            handle.write(json.dumps({"t": time.time(), "keys": keys, "hosts": configured}) + "\n")
            handle.flush()
            time.sleep(0.2)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3].split(","))
