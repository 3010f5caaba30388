# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one retry policy of the collection's AWS clients.

amazon.aws's ``AWSRetry`` knows the throttling codes of the query APIs (IAM and STS answer ``Throttling``,
EC2 ``RequestLimitExceeded``), but not those of the JSON APIs the collection also calls: SSM, CloudWatch
Logs and CloudWatch answer ``ThrottlingException``. Every client and paginator of the collection retries
with this decorator, so a burst of throttling on any service is waited out the same way.
"""

from __future__ import annotations

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

EXTRA_RETRY_CODES = ["ThrottlingException", "ServiceUnavailableException", "InternalServerError"]


def jittered_backoff(**kwargs):
    """``AWSRetry.jittered_backoff`` that also retries the JSON APIs' throttling codes."""
    return AWSRetry.jittered_backoff(catch_extra_error_codes=EXTRA_RETRY_CODES, **kwargs)
