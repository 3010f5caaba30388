# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""IAM OIDC providers: the calls amazon.aws lacks, and the plans that create, update or delete a provider.

Helpers take an IAM client (made with ``retry_decorator=retries.jittered_backoff()``) and plain values,
never the module; every call passes ``aws_retry=True``. Readers return ``None`` for what does not exist;
writers return ``True`` (``create_oidc_provider`` the new ARN). Errors are raised as ``AnsibleIAMError``.
A provider is viewed as ``dict(arn, url, client_ids, thumbprints, tags)``, ``url`` without ``https://``.
"""

import functools

from ansible_collections.amazon.aws.plugins.module_utils.iam import AnsibleIAMError
from ansible_collections.amazon.aws.plugins.module_utils.iam import IAMErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.iam import list_iam_roles
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.observability.cloudwatch.plugins.module_utils.exporter_policies import federated_principals
from ansible_collections.observability.cloudwatch.plugins.module_utils.iam_principal import is_owned
from ansible_collections.observability.cloudwatch.plugins.module_utils.plan import wait_until

# ---------------------------------------------------------------------------------------------------
# Calls


@IAMErrorHandler.list_error_handler("list OIDC providers", [])
def list_oidc_provider_arns(client):
    providers = client.list_open_id_connect_providers(aws_retry=True)["OpenIDConnectProviderList"]
    return [provider["Arn"] for provider in providers]


@IAMErrorHandler.list_error_handler("get OIDC provider")
def get_oidc_provider(client, arn):
    """The provider's view, or ``None``."""
    provider = client.get_open_id_connect_provider(OpenIDConnectProviderArn=arn, aws_retry=True)
    return {
        "arn": arn,
        "url": provider.get("Url"),
        "client_ids": sorted(provider.get("ClientIDList") or []),
        "thumbprints": sorted(t.lower() for t in provider.get("ThumbprintList") or []),
        "tags": boto3_tag_list_to_ansible_dict(provider.get("Tags") or []),
    }


def find_oidc_provider(client, issuer):
    """The provider of ``issuer`` (the URL without ``https://``), or ``None``. One list call, then one get."""
    suffix = ":oidc-provider/" + issuer
    for arn in list_oidc_provider_arns(client):
        if arn.endswith(suffix):
            return get_oidc_provider(client, arn)
    return None


@IAMErrorHandler.common_error_handler("create OIDC provider")
def create_oidc_provider(client, url, client_ids, thumbprints, tags):
    """Create the provider; return its ARN."""
    params = {"Url": url, "ClientIDList": list(client_ids)}
    if thumbprints:
        params["ThumbprintList"] = list(thumbprints)
    if tags:
        params["Tags"] = ansible_dict_to_boto3_tag_list(tags)
    return client.create_open_id_connect_provider(aws_retry=True, **params)["OpenIDConnectProviderArn"]


@IAMErrorHandler.common_error_handler("add a client ID to OIDC provider")
def add_oidc_client_id(client, arn, client_id):
    """Add ``client_id`` (a token audience) to the provider's client IDs."""
    client.add_client_id_to_open_id_connect_provider(
        OpenIDConnectProviderArn=arn, ClientID=client_id, aws_retry=True
    )
    return True


@IAMErrorHandler.common_error_handler("update OIDC provider thumbprints")
def update_oidc_thumbprints(client, arn, thumbprints):
    """Replace the provider's thumbprints with ``thumbprints``."""
    client.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=arn, ThumbprintList=list(thumbprints), aws_retry=True
    )
    return True


@IAMErrorHandler.deletion_error_handler("delete OIDC provider")
def delete_oidc_provider(client, arn):
    """Delete the provider; ``False`` when it was already gone."""
    client.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn, aws_retry=True)
    return True


def wait_for_oidc_provider(client, arn, timeout):
    """Poll until IAM serves the provider ``arn`` (IAM is eventually consistent); return its view."""
    return wait_until(lambda: get_oidc_provider(client, arn), timeout, f"OIDC provider {arn}", error=AnsibleIAMError)


def roles_trusting(client, provider_arn, exclude=()):
    """Names of the roles whose trust policy names ``provider_arn`` as a ``Federated`` principal.

    IAM deletes an OIDC provider that roles still trust without a word (their web-identity sign-ins then
    fail), so callers ask this before deleting one. ``exclude`` lists role names to leave out. botocore
    hands trust policies over already decoded.
    """
    names = []
    for role in list_iam_roles(client):
        if role["RoleName"] not in exclude and provider_arn in federated_principals(role.get("AssumeRolePolicyDocument")):
            names.append(role["RoleName"])
    return sorted(names)


# ---------------------------------------------------------------------------------------------------
# Reads and plans


def provider_view(provider):
    return None if provider is None else dict(provider)


def read_provider(client, arn=None, issuer=None, required=False):
    """The provider named by ``arn``, else found by ``issuer``, else ``None``. With ``required``, a
    provider named by ARN must exist."""
    if arn:
        provider = get_oidc_provider(client, arn)
        if provider is None and required:
            raise AnsibleIAMError(message=f"oidc_provider_arn {arn}: no such OIDC provider (give oidc_provider_url to create it)")
        return provider
    if issuer:
        return find_oidc_provider(client, issuer)
    return None


def plan_oidc_provider(plan, client, provider, url, issuer, audience, thumbprints, tags, partition, account):
    """Create the provider of ``url`` (``issuer``), or, on one the collection owns, add ``audience`` and set
    ``thumbprints``. A provider it did not create is never changed (other roles may trust it): a missing
    audience raises ``AnsibleIAMError``, a thumbprint difference is a warning. ``tags``, ``partition`` and
    ``account`` are those of a new provider; ``plan.after["oidc_provider"]`` is the predicted view."""
    if provider is None:
        plan.add(
            f"create OIDC provider {url} (client ID {audience})",
            functools.partial(create_oidc_provider, client, url, [audience], thumbprints, tags),
            key="oidc_provider",
        )
        plan.after["oidc_provider"] = dict(
            arn=f"arn:{partition}:iam::{account}:oidc-provider/{issuer}",
            url=issuer,
            client_ids=[audience],
            thumbprints=sorted(thumbprints or []),
            tags=tags,
        )
        return
    view = plan.after["oidc_provider"]
    owned = is_owned(provider["tags"])
    if audience not in view["client_ids"]:
        if not owned:
            raise AnsibleIAMError(message=foreign_audience_refusal(provider, audience))
        plan.add(
            f"add client ID {audience} to OIDC provider {provider['arn']}",
            functools.partial(add_oidc_client_id, client, provider["arn"], audience),
        )
        view["client_ids"] = sorted(view["client_ids"] + [audience])
    if thumbprints and sorted(thumbprints) != view["thumbprints"]:
        if owned:
            plan.add(
                f"set the thumbprints of OIDC provider {provider['arn']}",
                functools.partial(update_oidc_thumbprints, client, provider["arn"], thumbprints),
            )
            view["thumbprints"] = sorted(thumbprints)
        else:
            plan.warnings.append(
                f"OIDC provider {provider['arn']} was not created by this collection: its thumbprints were left "
                "as they are. Update them yourself if the issuer's certificate changed."
            )


def foreign_audience_refusal(provider, audience):
    """The message refusing to add ``audience`` to a provider the collection did not create."""
    client_ids = ", ".join(provider["client_ids"]) or "none"
    return (
        f"OIDC provider {provider['arn']} was not created by this collection, and audience {audience} is not one of "
        f"its client IDs ({client_ids}). The module never changes a provider it did not create: other roles may trust "
        "it. Add the client ID yourself (aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn "
        f"{provider['arn']} --client-id {audience}), or set audience to one of its client IDs. Nothing was changed."
    )


def read_providers_to_remove(client, trusted_arns, arn=None, issuer=None):
    """The providers a removed role leaves behind: the one ``arn`` or ``issuer`` names (first), then those
    of ``trusted_arns`` (the ``Federated`` principals of the role's trust policy) that exist."""
    providers = []
    arns = set(trusted_arns)
    if arn or issuer:
        named = read_provider(client, arn, issuer)
        if named is not None:
            providers.append(named)
            arns.discard(named["arn"])
    for trusted in sorted(arns):
        if ":oidc-provider/" in trusted:
            found = get_oidc_provider(client, trusted)
            if found is not None:
                providers.append(found)
    return providers


def plan_oidc_providers_absent(plan, client, providers, role_name):
    """Delete each of ``providers`` the collection created and no role but ``role_name`` trusts; keep the
    others (a warning names the roles that still trust one)."""
    for provider in providers:
        if not is_owned(provider["tags"]):
            continue  # not created by the collection: never deleted
        others = roles_trusting(client, provider["arn"], exclude=(role_name,))
        if others:
            plan.warnings.append(
                f"OIDC provider {provider['arn']} is kept: role{'s' if len(others) > 1 else ''} {', '.join(others)} "
                "still trust it."
            )
            continue
        plan.add(f"delete OIDC provider {provider['arn']}", functools.partial(delete_oidc_provider, client, provider["arn"]))
        if plan.after["oidc_provider"] and plan.after["oidc_provider"]["arn"] == provider["arn"]:
            plan.after["oidc_provider"] = None
