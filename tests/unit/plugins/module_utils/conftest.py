# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clients with botocore's Stubber behind the retrying wrapper, for the IAM and access key tests."""

import botocore.session
import pytest
from botocore.stub import Stubber

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper


def _client(service):
    client = botocore.session.get_session().create_client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    return client, Stubber(client)


@pytest.fixture
def stubs():
    """(iam client, iam stubber, sts client, sts stubber); every stubbed response must be used."""
    iam_client, iam_stub = _client("iam")
    sts_client, sts_stub = _client("sts")
    retry = AWSRetry.jittered_backoff(retries=1)
    with iam_stub, sts_stub:
        yield RetryingBotoClientWrapper(iam_client, retry), iam_stub, RetryingBotoClientWrapper(sts_client, retry), sts_stub
        iam_stub.assert_no_pending_responses()
        sts_stub.assert_no_pending_responses()
