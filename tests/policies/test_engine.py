"""Table-driven tests of the pure policy engine: no database."""

from __future__ import annotations

import ipaddress
import json
import time
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine import (
    CompiledPolicySet,
    Effect,
    PolicyError,
    PolicyKind,
    SourcedStatement,
    parse_policy,
)
from policies.engine.evaluator import reference_decide
from policies.engine.wildcard import compile_pattern, reference_match


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "1", "Statement": list(statements)})


def compiled(*statements: dict) -> CompiledPolicySet:
    parsed = parse_policy(doc(*statements))
    return CompiledPolicySet(SourcedStatement(s, f"s{s.index}") for s in parsed.statements)


def allow(action="*", resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="*", resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


# --- wildcards --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("*", "", True),
        ("*", "anything", True),
        ("", "", True),
        ("", "a", False),
        ("abc", "abc", True),
        ("abc", "abcd", False),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("a?c", "abbc", False),
        ("a*", "a", True),
        ("a*", "ab/c", True),
        ("*c", "abc", True),
        ("*c", "abd", False),
        ("a*b*c", "aXbYc", True),
        ("a*b*c", "aXcYb", False),
        ("*a*a*b", "aaab", True),
        ("*a*a*b", "aab", True),
        ("*a*a*b", "ab", False),
        ("??", "ab", True),
        ("??", "a", False),
        ("*?", "", False),
        ("*?", "x", True),
        # regex metacharacters are literal
        ("user/a.b", "user/aXb", False),
        ("user/a.b", "user/a.b", True),
        ("user/[ab]", "user/a", False),
        ("user/[ab]", "user/[ab]", True),
        ("user/(x)+", "user/(x)+", True),
        ("user/(x)+", "user/xx", False),
        ("a^b$c", "a^b$c", True),
        ("a\\d", "a\\d", True),
        ("a\\d", "a1", False),
        ("a|b", "a", False),
        ("line\nbreak*", "line\nbreak and more", True),
    ],
)
def test_wildcard_table(pattern, value, expected):
    assert compile_pattern(pattern)(value) is expected
    assert reference_match(pattern, value) is expected


def test_wildcard_ignore_case_folds_pattern():
    assert compile_pattern("RAM:Get*", ignore_case=True)("ram:getuser")
    assert not compile_pattern("RAM:Get*")("ram:getuser")


@given(
    pattern=st.text(alphabet="ab*?.[", max_size=8),
    value=st.text(alphabet="ab.[", max_size=10),
)
@settings(max_examples=3000, deadline=None)
def test_wildcard_matches_reference(pattern, value):
    assert compile_pattern(pattern)(value) == reference_match(pattern, value)


def test_many_stars_against_long_name_stay_linear():
    """A naive backtracking translation of this pattern never finishes."""
    pattern = "*a" * 60 + "*b"
    value = "a" * 100_000
    started = time.perf_counter()
    assert compile_pattern(pattern)(value) is False
    assert compile_pattern(pattern)(value + "b") is True
    assert time.perf_counter() - started < 5


# --- conditions -------------------------------------------------------------------------

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("operator", "key", "policy_value", "request_value", "expected"),
    [
        ("StringEquals", "ram:tag", "prod", "prod", True),
        ("StringEquals", "ram:tag", "prod", "Prod", False),
        ("StringEquals", "ram:tag", ["dev", "prod"], "prod", True),
        ("StringNotEquals", "ram:tag", "prod", "dev", True),
        ("StringNotEquals", "ram:tag", ["dev", "prod"], "prod", False),
        ("StringEqualsIgnoreCase", "ram:tag", "PROD", "prod", True),
        ("StringNotEqualsIgnoreCase", "ram:tag", "PROD", "prod", False),
        ("StringLike", "ram:tag", "pr?d*", "prodx", True),
        ("StringLike", "ram:tag", "pr?d*", "Prod", False),
        ("StringNotLike", "ram:tag", "dev-*", "prod-1", True),
        ("StringNotLike", "ram:tag", "dev-*", "dev-1", False),
        ("NumericEquals", "oss:n", "10", "10.0", True),
        ("NumericNotEquals", "oss:n", 10, "11", True),
        ("NumericLessThan", "oss:n", "10", "9", True),
        ("NumericLessThan", "oss:n", "10", "10", False),
        ("NumericLessThanEquals", "oss:n", "10", "10", True),
        ("NumericGreaterThan", "oss:n", "10", "11", True),
        ("NumericGreaterThanEquals", "oss:n", "10", "9", False),
        ("NumericEquals", "oss:n", "10", "ten", False),
        ("DateEquals", "acs:CurrentTime", "2026-11-29T12:00:00Z", NOW, True),
        ("DateNotEquals", "acs:CurrentTime", "2026-11-29T12:00:00Z", NOW, False),
        ("DateLessThan", "acs:CurrentTime", "2026-11-29T20:00:00+08:00", NOW, False),
        ("DateLessThan", "acs:CurrentTime", "2027-01-01T00:00:00Z", NOW, True),
        ("DateLessThanEquals", "acs:CurrentTime", "2026-11-29T12:00:00Z", NOW, True),
        ("DateGreaterThan", "acs:CurrentTime", "2026-11-29T11:59:59Z", NOW, True),
        ("DateGreaterThanEquals", "acs:CurrentTime", "2026-11-29T12:00:01Z", NOW, False),
        ("Bool", "acs:MFAPresent", "true", True, True),
        ("Bool", "acs:MFAPresent", "true", False, False),
        ("Bool", "acs:SecureTransport", False, "false", True),
        ("IpAddress", "acs:SourceIp", "10.0.0.0/8", ipaddress.ip_address("10.2.3.4"), True),
        ("IpAddress", "acs:SourceIp", ["192.168.0.1", "10.0.0.0/8"], "192.168.0.1", True),
        ("IpAddress", "acs:SourceIp", "10.0.0.0/8", "11.0.0.1", False),
        ("IpAddress", "acs:SourceIp", "2001:db8::/32", "2001:db8::1", True),
        ("IpAddress", "acs:SourceIp", "10.0.0.0/8", "not-an-ip", False),
        ("NotIpAddress", "acs:SourceIp", "10.0.0.0/8", "11.0.0.1", True),
        ("NotIpAddress", "acs:SourceIp", "10.0.0.0/8", "10.0.0.1", False),
    ],
)
def test_condition_operators(operator, key, policy_value, request_value, expected):
    policy = compiled(allow(Condition={operator: {key: policy_value}}))
    decision = policy.decide("ram:GetUser", "acs:ram:*:1:user/a", {key.lower(): request_value})
    assert decision.allowed is expected


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("NumericLessThan", False),
        ("DateGreaterThan", False),
        ("Bool", False),
        ("IpAddress", False),
        ("StringNotEquals", True),  # negated operators hold when the key is absent (AWS)
        ("StringNotLike", True),
        ("NotIpAddress", True),
        ("StringEqualsIfExists", True),
        ("BoolIfExists", True),
    ],
)
def test_missing_condition_key(operator, expected):
    values = {
        "Bool": "true",
        "BoolIfExists": "true",
        "IpAddress": "10.0.0.0/8",
        "NotIpAddress": "10.0.0.0/8",
        "NumericLessThan": "3",
        "DateGreaterThan": "2020-01-01T00:00:00Z",
    }
    policy = compiled(allow(Condition={operator: {"ram:absent": values.get(operator, "x")}}))
    assert policy.decide("ram:GetUser", "*", {}).allowed is expected


def test_condition_values_or_keys_and_operators_and():
    policy = compiled(
        allow(
            Condition={
                "StringEquals": {"ram:a": ["1", "2"], "ram:b": "x"},
                "Bool": {"acs:MFAPresent": "true"},
            }
        )
    )
    ctx = {"ram:a": "2", "ram:b": "x", "acs:mfapresent": True}
    assert policy.decide("ram:X", "*", ctx).allowed
    assert not policy.decide("ram:X", "*", {**ctx, "ram:b": "y"}).allowed
    assert not policy.decide("ram:X", "*", {**ctx, "acs:mfapresent": False}).allowed
    assert not policy.decide("ram:X", "*", {**ctx, "ram:a": "3"}).allowed


def test_condition_keys_are_case_insensitive():
    policy = compiled(allow(Condition={"Bool": {"ACS:mfaPRESENT": "true"}}))
    assert policy.decide("ram:X", "*", {"acs:mfapresent": True}).allowed


# --- statements and decisions ------------------------------------------------------------


def test_explicit_deny_beats_allow_in_any_order():
    for statements in ([allow(), deny("ram:DeleteUser")], [deny("ram:DeleteUser"), allow()]):
        policy = compiled(*statements)
        decision = policy.decide("ram:DeleteUser", "*", {})
        assert decision.effect is Effect.EXPLICIT_DENY
        assert decision.deciding.statement.effect == "Deny"
        assert policy.decide("ram:CreateUser", "*", {}).allowed


def test_implicit_deny_when_nothing_matches():
    policy = compiled(allow("ecs:Describe*"))
    decision = policy.decide("ram:ListUsers", "*", {})
    assert decision.effect is Effect.IMPLICIT_DENY and decision.deciding is None


def test_actions_are_case_insensitive_resources_are_not():
    policy = compiled(allow("RAM:getuser", "acs:ram:*:1:user/Alice"))
    assert policy.decide("ram:GetUser", "acs:ram:*:1:user/Alice", {}).allowed
    assert not policy.decide("ram:GetUser", "acs:ram:*:1:user/alice", {}).allowed


def test_not_action():
    policy = compiled(
        {"Effect": "Allow", "NotAction": ["ram:Delete*", "ram:Update*"], "Resource": "*"}
    )
    assert policy.decide("ram:GetUser", "*", {}).allowed
    assert policy.decide("ecs:RunInstances", "*", {}).allowed
    assert not policy.decide("ram:DeleteUser", "*", {}).allowed


def test_not_resource():
    policy = compiled(
        {"Effect": "Allow", "Action": "ram:*", "NotResource": "acs:ram:*:1:user/root-*"}
    )
    assert policy.decide("ram:GetUser", "acs:ram:*:1:user/bob", {}).allowed
    assert not policy.decide("ram:GetUser", "acs:ram:*:1:user/root-x", {}).allowed


def test_deny_with_not_action_blocks_everything_else():
    policy = compiled(allow(), {"Effect": "Deny", "NotAction": "ram:Get*", "Resource": "*"})
    assert policy.decide("ram:GetUser", "*", {}).allowed
    assert policy.decide("ram:CreateUser", "*", {}).effect is Effect.EXPLICIT_DENY


def test_service_wildcard_statements_apply_across_services():
    policy = compiled(allow("*:Get*"), allow("ecs:Describe*"))
    assert policy.decide("oss:GetObject", "*", {}).allowed
    assert policy.decide("ecs:DescribeInstances", "*", {}).allowed
    assert not policy.decide("ecs:RunInstances", "*", {}).allowed


def test_resource_wildcards_with_account_and_question_mark():
    policy = compiled(allow("ram:*", "acs:ram:*:*:user/dev-??"))
    assert policy.decide("ram:GetUser", "acs:ram:*:123:user/dev-01", {}).allowed
    assert not policy.decide("ram:GetUser", "acs:ram:*:123:user/dev-001", {}).allowed


def test_deny_only_when_condition_holds():
    policy = compiled(allow(), deny(Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}))
    assert policy.decide("ram:X", "*", {"acs:sourceip": "10.1.1.1"}).allowed
    assert not policy.decide("ram:X", "*", {"acs:sourceip": "8.8.8.8"}).allowed


def test_memo_does_not_leak_between_resources_or_contexts():
    policy = compiled(allow("ram:GetUser", "acs:ram:*:1:user/a"))
    assert policy.decide("ram:GetUser", "acs:ram:*:1:user/a", {}).allowed
    assert not policy.decide("ram:GetUser", "acs:ram:*:1:user/b", {}).allowed
    assert policy.decide("RAM:GETUSER", "acs:ram:*:1:user/a", {}).allowed


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("{", "invalid JSON at line 1"),
        ("\ufeff" + doc(allow()), "invalid JSON"),
        ("[]", "must be a JSON object"),
        (json.dumps({"Version": "2", "Statement": [allow()]}), 'Version must be the string "1"'),
        (json.dumps({"Version": 1, "Statement": [allow()]}), "Version"),
        (json.dumps({"Version": "1", "Statement": []}), "Statement must be a non-empty list"),
        (json.dumps({"Version": "1", "Statement": [allow()], "Id": "x"}), "unknown top-level"),
        ('{"Version":"1","Version":"1","Statement":[]}', 'duplicate key "Version"'),
        (
            '{"Version":"1","Statement":[{"Effect":"Deny","Effect":"Allow","Action":"*",'
            '"Resource":"*"}]}',
            'duplicate key "Effect"',
        ),
        (
            '{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",'
            '"Condition":{"NumericLessThan":{"oss:n":NaN}}}]}',
            "NaN is not allowed",
        ),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        (doc({"Effect": "allow", "Action": "*", "Resource": "*"}), "Statement[0].Effect"),
        (
            doc(allow(), {"Effect": "Allow", "Resource": "*"}),
            "Statement[1]: a statement needs exactly one of Action or NotAction",
        ),
        (
            doc({"Effect": "Allow", "Action": "*", "NotAction": "x:y", "Resource": "*"}),
            "exactly one of Action or NotAction",
        ),
        (doc({"Effect": "Allow", "Action": "*"}), "exactly one of Resource or NotResource"),
        (
            doc(allow(["ram:GetUser", "GetUser"])),
            "Statement[0].Action[1]: 'GetUser' is not of the form",
        ),
        (doc(allow([])), "Statement[0].Action: must not be an empty list"),
        (doc(allow("ram:Get User")), "is not of the form"),
        (doc(allow(resource="arn:aws:iam::1:user/x")), "Statement[0].Resource"),
        (doc(allow(resource=["*", 5])), "Statement[0].Resource[1]: must be a non-empty string"),
        (doc(allow(Principal={"RAM": "x"})), "unknown element 'Principal'"),
        (
            doc(allow(Condition={"StringEqualz": {"ram:x": "1"}})),
            "Statement[0].Condition.StringEqualz: unknown condition operator",
        ),
        (doc(allow(Condition={"Null": {"ram:x": "true"}})), "unknown condition operator 'Null'"),
        (
            doc(allow(Condition={"IpAddress": {"acs:SourceIp": "10.0.0.300"}})),
            "Statement[0].Condition.IpAddress.acs:SourceIp: '10.0.0.300' is not an IP address",
        ),
        (
            doc(allow(Condition={"DateLessThan": {"acs:CurrentTime": "tomorrow"}})),
            "is not an ISO 8601 date-time",
        ),
        (doc(allow(Condition={"NumericEquals": {"oss:n": "ten"}})), "is not a number"),
        (doc(allow(Condition={"Bool": {"acs:MFAPresent": "yes"}})), "is not true or false"),
        (doc(allow(Condition={"Bool": {"acs:MFAPresnt": "true"}})), "unknown global condition key"),
        (
            doc(allow(Condition={"Bool": {"nocolon": "true"}})),
            "is not of the form <service>:<name>",
        ),
        (doc(allow(Condition={"StringEquals": {"ram:x": []}})), "at least one value"),
        (doc(allow(Condition={"StringEquals": {"ram:x": {"a": 1}}})), "must be a string"),
        (doc(allow(Condition={})), "Condition must be a non-empty object"),
        (doc(allow("ram:Get\u0000User")), "control characters"),
    ],
)
def test_validation_messages(text, message):
    with pytest.raises(PolicyError) as info:
        parse_policy(text)
    assert message in str(info.value)


def test_size_limit_counts_without_whitespace():
    statement = allow(["ram:Get" + "x" * 40] * 10)
    text = json.dumps({"Version": "1", "Statement": [statement] * 12})
    compact = len(json.dumps(json.loads(text), separators=(",", ":")))
    parse_policy(json.dumps(json.loads(text), indent=8), max_chars=compact)
    with pytest.raises(PolicyError, match=f"the limit is {compact - 1}"):
        parse_policy(text, max_chars=compact - 1)


def test_huge_document_rejected_before_parsing():
    with pytest.raises(PolicyError, match="too long"):
        parse_policy(" " * (1 << 20) + doc(allow()), max_chars=6144)


def test_trust_policy_kind_takes_principal_not_resource():
    text = doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::123:root"]}}
    )
    parsed = parse_policy(text, kind=PolicyKind.TRUST)
    assert parsed.statements[0].principal == {"RAM": ("acs:ram::123:root",)}
    with pytest.raises(PolicyError, match="unknown principal type"):
        parse_policy(
            doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "x"}}),
            kind=PolicyKind.TRUST,
        )


def test_unicode_values_are_kept():
    parsed = parse_policy(doc(allow("ram:GetUser", "acs:ram:*:1:user/ünï-名字")))
    policy = CompiledPolicySet(SourcedStatement(s, None) for s in parsed.statements)
    assert policy.decide("ram:GetUser", "acs:ram:*:1:user/ünï-名字", {}).allowed


# --- the indexed evaluator agrees with the reference -------------------------------------

ACTIONS = ["ram:GetUser", "ram:CreateUser", "ram:DeleteUser", "ecs:RunInstances", "oss:GetObject"]
RESOURCES = ["acs:ram:*:1:user/a", "acs:ram:*:1:user/ab", "acs:ecs:*:1:instance/i-1", "*"]
action_patterns = st.sampled_from(
    ["*", "ram:*", "ram:Get*", "ram:?reateUser", "*:Get*", "ecs:*", "RAM:DeleteUser", "oss:*"]
)
resource_patterns = st.sampled_from(
    ["*", "acs:ram:*:1:user/*", "acs:ram:*:1:user/a", "acs:ram:*:1:user/a?", "acs:ecs:*:*:*"]
)
statements = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Deny"]),
        "Action": st.lists(action_patterns, min_size=1, max_size=3),
        "Resource": st.lists(resource_patterns, min_size=1, max_size=2),
    },
    optional={"Condition": st.just({"Bool": {"acs:MFAPresent": "true"}})},
).map(
    lambda s: {
        ("NotAction" if s["Effect"] == "Allow" and len(s["Action"]) == 3 else "Action"): s[
            "Action"
        ],
        **{k: v for k, v in s.items() if k != "Action"},
    }
)


@given(st.lists(statements, min_size=1, max_size=8), st.booleans())
@settings(max_examples=400, deadline=None)
def test_compiled_set_agrees_with_reference(raw_statements, mfa):
    parsed = parse_policy(doc(*raw_statements))
    entries = [SourcedStatement(s, None) for s in parsed.statements]
    policy = CompiledPolicySet(entries)
    context = {"acs:mfapresent": mfa}
    for action in ACTIONS:
        for resource in RESOURCES:
            expected = reference_decide(entries, action, resource, context)
            assert policy.decide(action, resource, context).effect is expected


@pytest.mark.parametrize(
    "text",
    [
        '{"Version":"1","Statement":[{"Sid":' + "9" * 5000 + "}]}",
        '{"Version":"1","Statement":[{"Sid":1' + "0" * 400 + ".5}]}",
        '{"Version":"1","Statement":[{"Sid":1e999}]}',
        doc(allow(Sid="a\x00b")),
        doc(allow(Sid="\ud800")),
        doc(allow(Condition={"StringEquals": {"acs:x": "\udfff"}})),
    ],
)
def test_unstorable_values_and_huge_numbers_are_malformed(text):
    with pytest.raises(PolicyError):
        parse_policy(text)
