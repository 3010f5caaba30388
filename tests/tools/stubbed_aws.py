# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A boto3 client answered by a botocore Stubber, wrapped like the modules' clients (retries with aws_retry=True)."""

import contextlib

import boto3
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from botocore.stub import Stubber


@contextlib.contextmanager
def stubbed_client(service):
    """Yield ``(client, stubber)``; on exit, every response added must have been used."""
    client = boto3.client(service, region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")
    with Stubber(client) as stubber:
        yield RetryingBotoClientWrapper(client, AWSRetry.jittered_backoff(retries=1, delay=0)), stubber
        stubber.assert_no_pending_responses()
