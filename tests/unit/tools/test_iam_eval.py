# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policy evaluator the integration tests rely on (tests/tools/iam_eval.py), on plain policies.

moto enforces no condition, so a time-bound grant is only proven by this evaluator: each Date operator is
checked at its bound (one second before, at, one second after), as are the keys a request may lack.
"""

import datetime
import time

import pytest

import iam_eval  # from tests/tools (pytest.ini pythonpath)

UTC = datetime.timezone.utc
BOUND = datetime.datetime(2026, 11, 30, 10, 45, tzinfo=UTC)
SECOND = datetime.timedelta(seconds=1)
LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:app"
ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}


def evaluator(*statements, boundary=None):
    return iam_eval.Evaluator({"p": {"Version": "2012-10-17", "Statement": list(statements)}}, boundary=boundary)


def denied_if(condition):
    """An evaluator that allows everything, and denies everything when ``condition`` holds."""
    return evaluator(ALLOW_ALL, {"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition})


def allowed_if(condition):
    """An evaluator that allows logs:PutLogEvents only when ``condition`` holds."""
    return evaluator({"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*", "Condition": condition})


# -- Date operators at the bound --------------------------------------------------------------------
# (one second before, at, one second after the bound)
OPERATORS = {
    "DateEquals": (False, True, False),
    "DateNotEquals": (True, False, True),
    "DateLessThan": (True, False, False),
    "DateLessThanEquals": (True, True, False),
    "DateGreaterThan": (False, False, True),
    "DateGreaterThanEquals": (False, True, True),
}
# The same bound written the ways IAM accepts it.
BOUNDS = [
    ("aws:CurrentTime", "2026-11-30T10:45:00Z"),
    ("aws:CurrentTime", "2026-11-30T10:45:00.000Z"),
    ("aws:CurrentTime", "2026-11-30T11:45:00+01:00"),
    ("aws:CurrentTime", "1796035500"),
    ("aws:EpochTime", "1796035500"),
    ("aws:EpochTime", 1796035500),
    ("aws:EpochTime", "2026-11-30T10:45:00+00:00"),
]


@pytest.mark.parametrize("operator", OPERATORS)
@pytest.mark.parametrize("key, bound", BOUNDS)
def test_date_operator_at_its_bound(operator, key, bound):
    policy = allowed_if({operator: {key: bound}})
    seen = tuple(policy.allowed("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND + offset)) for offset in (-SECOND, 0 * SECOND, SECOND))
    assert seen == OPERATORS[operator]


@pytest.mark.parametrize("operator", OPERATORS)
def test_date_operator_compares_instants_across_offsets_and_fractions(operator):
    policy = allowed_if({operator: {"aws:TokenIssueTime": "2026-11-30T10:45:00Z"}})
    # half a second before, at, and half a second after the bound, written in other offsets
    contexts = ["2026-11-30T11:44:59.5+01:00", "2026-11-30T05:45:00-05:00", "2026-11-30T10:45:00.5+00:00"]
    seen = tuple(policy.allowed("logs:PutLogEvents", context={"aws:TokenIssueTime": c}) for c in contexts)
    assert seen == OPERATORS[operator]


@pytest.mark.parametrize("operator", OPERATORS)
def test_if_exists_applies_without_the_key_and_checks_it_when_present(operator):
    policy = allowed_if({f"{operator}IfExists": {"aws:TokenIssueTime": "2026-11-30T10:45:00Z"}})
    assert policy.allowed("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND))
    seen = tuple(
        policy.allowed("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND, token_issued=BOUND + offset)) for offset in (-SECOND, 0 * SECOND, SECOND)
    )
    assert seen == OPERATORS[operator]


@pytest.mark.parametrize("operator", OPERATORS)
def test_a_missing_key_makes_a_date_operator_false_and_a_negated_one_true(operator):
    policy = allowed_if({operator: {"aws:TokenIssueTime": "2026-11-30T10:45:00Z"}})
    assert policy.allowed("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND)) is (operator == "DateNotEquals")


def test_deny_after_the_bound_beats_the_allow_one_second_later():
    policy = denied_if({"DateGreaterThan": {"aws:CurrentTime": "2026-11-30T10:45:00Z"}})
    assert policy.decide("logs:PutLogEvents", LOG_GROUP, iam_eval.request_context(at=BOUND - SECOND)) == iam_eval.ALLOW
    assert policy.decide("logs:PutLogEvents", LOG_GROUP, iam_eval.request_context(at=BOUND)) == iam_eval.ALLOW
    assert policy.decide("logs:PutLogEvents", LOG_GROUP, iam_eval.request_context(at=BOUND + SECOND)) == iam_eval.EXPLICIT_DENY
    assert policy.decide("iam:CreateAccessKey", "*", iam_eval.request_context(at=BOUND + SECOND, token_issued=BOUND)) == iam_eval.EXPLICIT_DENY


def test_a_request_that_does_not_say_when_is_not_let_through_a_time_bound():
    deny_after = denied_if({"DateGreaterThan": {"aws:CurrentTime": "2026-11-30T10:45:00Z"}})
    assert deny_after.decide("logs:PutLogEvents") == iam_eval.EXPLICIT_DENY
    assert deny_after.decide("logs:PutLogEvents", context={"aws:TokenIssueTime": "2026-11-30T10:00:00Z"}) == iam_eval.EXPLICIT_DENY
    allow_until = allowed_if({"DateLessThanIfExists": {"aws:EpochTime": "1796035500"}})
    assert allow_until.decide("logs:PutLogEvents") == iam_eval.IMPLICIT_DENY
    assert allow_until.decide("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND - SECOND)) == iam_eval.ALLOW


def test_revoking_older_sessions_denies_them_and_not_newer_ones_nor_an_access_key():
    revoked_before = "2026-11-30T10:45:00Z"
    policy = denied_if({"DateLessThan": {"aws:TokenIssueTime": revoked_before}})
    later = BOUND + datetime.timedelta(hours=1)
    assert policy.decide("logs:PutLogEvents", LOG_GROUP, iam_eval.request_context(at=later, token_issued=BOUND - SECOND)) == iam_eval.EXPLICIT_DENY
    assert policy.decide("logs:PutLogEvents", LOG_GROUP, iam_eval.request_context(at=later, token_issued=BOUND)) == iam_eval.ALLOW
    assert policy.decide("logs:PutLogEvents", LOG_GROUP, iam_eval.request_context(at=later, token_issued=BOUND + SECOND)) == iam_eval.ALLOW
    # An IAM user's long-term key carries no aws:TokenIssueTime: the revocation does not reach it.
    assert policy.decide("logs:PutLogEvents", LOG_GROUP, iam_eval.request_context(at=later)) == iam_eval.ALLOW


def test_several_policy_dates_any_may_match_and_not_equals_must_differ_from_all():
    dates = ["2026-11-30T10:45:00Z", "2026-12-01T00:00:00Z"]
    assert allowed_if({"DateEquals": {"aws:CurrentTime": dates}}).allowed("logs:PutLogEvents", context={"aws:CurrentTime": "2026-12-01T00:00:00Z"})
    assert not allowed_if({"DateNotEquals": {"aws:CurrentTime": dates}}).allowed("logs:PutLogEvents", context={"aws:CurrentTime": "2026-12-01T00:00:00Z"})
    assert allowed_if({"DateNotEquals": {"aws:CurrentTime": dates}}).allowed("logs:PutLogEvents", context={"aws:CurrentTime": "2026-12-02T00:00:00Z"})


def test_set_qualifiers_on_a_list_of_dates():
    early, late = "2026-11-30T10:44:59Z", "2026-11-30T10:45:01Z"
    condition = {"aws:TokenIssueTime": "2026-11-30T10:45:00Z"}
    any_before = allowed_if({"ForAnyValue:DateLessThan": condition})
    all_before = allowed_if({"ForAllValues:DateLessThan": condition})
    assert any_before.allowed("logs:PutLogEvents", context={"aws:TokenIssueTime": [early, late]})
    assert not all_before.allowed("logs:PutLogEvents", context={"aws:TokenIssueTime": [early, late]})
    assert all_before.allowed("logs:PutLogEvents", context={"aws:TokenIssueTime": [early, early]})
    # IAM: ForAllValues holds over no values at all, ForAnyValue needs one.
    assert all_before.allowed("logs:PutLogEvents", context={})
    assert not any_before.allowed("logs:PutLogEvents", context={})


@pytest.fixture
def machine_far_from_utc(monkeypatch):
    """The machine's local time is UTC+9, so a date read as local time would be off by nine hours."""
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_policy_date_without_an_offset_is_utc(machine_far_from_utc):
    for bound in ("2026-11-30T10:45:00", "2026-11-30T10:45:00.000"):
        policy = allowed_if({"DateLessThan": {"aws:CurrentTime": bound}})
        assert policy.allowed("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND - SECOND))
        assert not policy.allowed("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND))
    midnight = allowed_if({"DateGreaterThanEquals": {"aws:CurrentTime": "2026-11-30"}})
    assert midnight.allowed("logs:PutLogEvents", context=iam_eval.request_context(at=datetime.datetime(2026, 11, 30, tzinfo=UTC)))
    assert not midnight.allowed("logs:PutLogEvents", context=iam_eval.request_context(at=datetime.datetime(2026, 11, 30, tzinfo=UTC) - SECOND))


def test_request_context_names_the_time_keys_in_utc():
    at = datetime.datetime(2026, 11, 30, 11, 45, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert iam_eval.request_context(at=at) == {"aws:CurrentTime": "2026-11-30T10:45:00Z", "aws:EpochTime": "1796035500"}
    assert iam_eval.request_context(at=at, token_issued=BOUND - SECOND)["aws:TokenIssueTime"] == "2026-11-30T10:44:59Z"


NOW = {"aws:CurrentTime": "2026-11-30T10:45:00Z"}


@pytest.mark.parametrize(
    "condition, context, bad",
    [
        ({"DateLessThan": {"aws:CurrentTime": "next tuesday"}}, NOW, "next tuesday"),
        ({"DateLessThan": {"aws:CurrentTime": "2026-11-31T00:00:00Z"}}, NOW, "2026-11-31T00:00:00Z"),
        ({"DateLessThan": {"aws:CurrentTime": True}}, NOW, True),
        ({"DateLessThan": {"aws:CurrentTime": "2026-11-30T10:45:00Z"}}, {"aws:CurrentTime": "soon"}, "soon"),
        # a policy's bad date is an error even where the key is missing and the answer would not need it
        ({"DateNotEquals": {"aws:TokenIssueTime": "next tuesday"}}, NOW, "next tuesday"),
    ],
)
def test_a_date_that_cannot_be_read_is_an_error_naming_key_and_value(condition, context, bad):
    policy = denied_if(condition)
    (key,) = next(iter(condition.values()))
    with pytest.raises(ValueError) as error:
        policy.decide("logs:PutLogEvents", context=context)
    assert key in str(error.value) and repr(bad) in str(error.value)


def test_a_time_without_a_timezone_is_refused_by_request_context():
    with pytest.raises(ValueError, match="at"):
        iam_eval.request_context(at=datetime.datetime(2026, 11, 30, 10, 45))


# -- the other operators and statement forms --------------------------------------------------------
def test_string_operators():
    vpc = {"aws:SourceVpc": "vpc-1"}
    assert allowed_if({"StringEquals": {"aws:SourceVpc": ["vpc-2", "vpc-1"]}}).allowed("logs:PutLogEvents", context=vpc)
    assert not allowed_if({"StringEquals": {"aws:SourceVpc": "VPC-1"}}).allowed("logs:PutLogEvents", context=vpc)
    assert allowed_if({"StringEqualsIgnoreCase": {"aws:SourceVpc": "VPC-1"}}).allowed("logs:PutLogEvents", context=vpc)
    assert allowed_if({"StringLike": {"aws:SourceVpc": "vpc-?"}}).allowed("logs:PutLogEvents", context=vpc)
    assert not allowed_if({"StringNotEquals": {"aws:SourceVpc": ["vpc-2", "vpc-1"]}}).allowed("logs:PutLogEvents", context=vpc)
    assert allowed_if({"StringNotLike": {"aws:SourceVpc": "vpc-2*"}}).allowed("logs:PutLogEvents", context=vpc)
    # condition keys are case-insensitive
    assert allowed_if({"StringEquals": {"AWS:sourcevpc": "vpc-1"}}).allowed("logs:PutLogEvents", context=vpc)


def test_bool_and_a_missing_key_of_a_string_operator():
    secure = allowed_if({"Bool": {"aws:SecureTransport": "true"}})
    assert secure.allowed("logs:PutLogEvents", context={"aws:SecureTransport": True})
    assert not secure.allowed("logs:PutLogEvents", context={"aws:SecureTransport": "false"})
    # undecided: an Allow does not apply, a Deny does
    assert not secure.allowed("logs:PutLogEvents")
    deny = denied_if({"Bool": {"aws:SecureTransport": "false"}})
    assert deny.decide("logs:PutLogEvents") == iam_eval.EXPLICIT_DENY
    assert deny.decide("logs:PutLogEvents", context={"aws:SecureTransport": "true"}) == iam_eval.ALLOW
    assert allowed_if({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}).allowed("logs:PutLogEvents")


def test_a_false_condition_decides_even_next_to_one_that_cannot_be_decided():
    unknown_and_false = {"NumericLessThan": {"s3:max-keys": "5"}, "DateGreaterThan": {"aws:CurrentTime": "2026-11-30T10:45:00Z"}}
    deny = denied_if(unknown_and_false)
    assert deny.decide("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND)) == iam_eval.ALLOW
    assert deny.decide("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND + SECOND)) == iam_eval.EXPLICIT_DENY
    unknown_qualifier = allowed_if({"Foo:DateEquals": {"aws:CurrentTime": "2026-11-30T10:45:00Z"}})
    assert not unknown_qualifier.allowed("logs:PutLogEvents", context=iam_eval.request_context(at=BOUND))


def test_not_action_and_not_resource():
    policy = evaluator({"Effect": "Allow", "NotAction": "iam:*", "NotResource": LOG_GROUP})
    assert policy.allowed("ssm:GetParameter", "arn:aws:ssm:us-east-1:123456789012:parameter/x")
    assert not policy.allowed("iam:CreateUser", "arn:aws:iam::123456789012:user/x")
    assert not policy.allowed("logs:PutLogEvents", LOG_GROUP)


def test_an_explicit_deny_in_any_policy_beats_an_allow_and_a_boundary_caps_it():
    policies = {
        "allow": {"Statement": [ALLOW_ALL]},
        "deny": {"Statement": [{"Effect": "Deny", "Action": "logs:Delete*", "Resource": "*"}]},
    }
    assert iam_eval.Evaluator(policies).decide("logs:DeleteLogGroup", LOG_GROUP) == iam_eval.EXPLICIT_DENY
    assert iam_eval.Evaluator(policies).decide("logs:PutLogEvents", LOG_GROUP) == iam_eval.ALLOW
    boundary = {
        "Statement": [
            {"Effect": "Allow", "Action": "logs:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "logs:PutRetentionPolicy", "Resource": "*"},
        ]
    }
    bounded = iam_eval.Evaluator(policies, boundary=boundary)
    assert bounded.decide("logs:PutLogEvents", LOG_GROUP) == iam_eval.ALLOW
    assert bounded.decide("ssm:GetParameter") == iam_eval.IMPLICIT_DENY
    assert bounded.decide("logs:PutRetentionPolicy", LOG_GROUP) == iam_eval.EXPLICIT_DENY
