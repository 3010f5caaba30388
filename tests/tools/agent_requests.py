# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether IAM would have allowed every AWS call an agent made, decided by the project's evaluator.

    agent_requests.py URL USER [USER ...]

For each IAM user (the identity behind an agent's key), reads its policies back from the local AWS at URL
and every request moto recorded that one of its access keys signed, turns each request into the IAM action,
resource and condition context AWS would evaluate, and prints JSON:
``{USER: {"calls": {ACTION: COUNT}, "denied": [{"action", "resource", "context"}], "inline_policies": [...],
"attached_policies": [...]}}``.
moto enforces no IAM policy, so its acceptance proves nothing: the evaluator decides.
"""

import base64
import json
import re
import sys
import urllib.parse
import urllib.request

import boto3

import iam_eval

# The signing name of a service in SigV4's credential scope, and its IAM prefix.
_IAM_PREFIX = {"monitoring": "cloudwatch", "logs": "logs", "ssm": "ssm", "ec2": "ec2", "xray": "xray", "sts": "sts"}
_SCOPE = re.compile(r"Credential=(?P<key>[^/]+)/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")


def _body(entry):
    body = entry.get("body") or ""
    if entry.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    return body


def request_of(entry, account):
    """``dict(access_key_id, action, resource, context)`` of one recorded request, ``None`` if it is unsigned."""
    headers = {k.lower(): v for k, v in entry["headers"].items()}
    scope = _SCOPE.search(headers.get("authorization", ""))
    if not scope:
        return None
    region, prefix = scope.group("region"), _IAM_PREFIX.get(scope.group("service"), scope.group("service"))
    body = _body(entry)
    target = headers.get("x-amz-target", "")
    if target:
        operation, params = target.rsplit(".", 1)[-1], json.loads(body or "{}")
    else:
        form = urllib.parse.parse_qs(body) or urllib.parse.parse_qs(urllib.parse.urlsplit(entry["url"]).query)
        operation, params = form.get("Action", ["?"])[0], {k: v[0] for k, v in form.items()}
    resource, context = "*", {}
    if prefix == "ssm" and params.get("Name"):
        resource = f"arn:aws:ssm:{region}:{account}:parameter/{params['Name'].lstrip('/')}"
    elif prefix == "logs" and params.get("logGroupName"):
        resource = f"arn:aws:logs:{region}:{account}:log-group:{params['logGroupName']}"
        if operation in ("CreateLogStream", "PutLogEvents"):
            resource += f":log-stream:{params.get('logStreamName', '')}"
    elif prefix == "cloudwatch" and operation == "PutMetricData":
        context["cloudwatch:namespace"] = params.get("Namespace")
    return dict(access_key_id=scope.group("key"), action=f"{prefix}:{operation}", resource=resource, context=context)


def recording(url):
    with urllib.request.urlopen(url + "/moto-api/recorder/download-recording", timeout=30) as response:
        return [json.loads(line) for line in response.read().decode().splitlines() if line.strip()]


def decide_user(iam, user, requests):
    """The calls made with ``user``'s keys, counted per action, and those its policies do not allow."""
    keys = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
    evaluator = iam_eval.evaluator_for(iam, "user", user)
    calls, denied = {}, []
    for request in requests:
        # IAM never refuses GetCallerIdentity (a key's check after its creation): it needs no permission.
        if request["access_key_id"] not in keys or request["action"] == "sts:GetCallerIdentity":
            continue
        calls[request["action"]] = calls.get(request["action"], 0) + 1
        if not evaluator.allowed(request["action"], request["resource"], request["context"]):
            denied.append({k: request[k] for k in ("action", "resource", "context")})
    return dict(
        calls=calls,
        denied=denied,
        inline_policies=iam.list_user_policies(UserName=user)["PolicyNames"],
        attached_policies=[p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]],
    )


def main(url, users):
    session = boto3.session.Session()
    iam = session.client("iam", endpoint_url=url)
    account = session.client("sts", endpoint_url=url).get_caller_identity()["Account"]
    requests = [r for r in (request_of(e, account) for e in recording(url)) if r]
    return {user: decide_user(iam, user, requests) for user in users}


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    print(json.dumps(main(sys.argv[1], sys.argv[2:])))
