# Copyright: Contributors to the observability.cloudwatch collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests for agent_schema: an agent configuration as data (parsing, size and depth, the compact form, paths)."""

from __future__ import annotations

import sys

import pytest
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_schema import (
    MAX_DEPTH,
    MAX_TEXT_BYTES,
    AgentConfigError,
    config_size,
    format_path,
    normalize_config,
    render_errors,
)


# ---- normalize_config and config_size --------------------------------------------------------

def test_key_order_and_whitespace_do_not_change_the_compact_form():
    as_dict = {"metrics": {"metrics_collected": {"mem": {"measurement": ["used_percent"]}}}, "agent": {"region": "eu-west-1"}}
    as_text = '{\n  "agent" : { "region": "eu-west-1" },\n\t"metrics": {"metrics_collected": {"mem": {"measurement": [ "used_percent" ]}}}\n}\n'
    dict_config, dict_compact = normalize_config(as_dict)
    text_config, text_compact = normalize_config(as_text)
    assert dict_compact == text_compact == '{"agent":{"region":"eu-west-1"},"metrics":{"metrics_collected":{"mem":{"measurement":["used_percent"]}}}}'
    assert dict_config == text_config == as_dict


def test_compact_form_keeps_non_ascii_text_and_normalizes_containers():
    config, compact = normalize_config({"logs": {"log_stream_name": "ログ-é", "tags": ("a", "b")}})
    assert compact == '{"logs":{"log_stream_name":"ログ-é","tags":["a","b"]}}'
    assert config == {"logs": {"log_stream_name": "ログ-é", "tags": ["a", "b"]}}


def test_bytes_are_read_as_utf8():
    assert normalize_config('{"a": "é"}'.encode())[1] == '{"a":"é"}'


@pytest.mark.parametrize(
    "text, message",
    [
        # Python 3.13 words a trailing comma itself and points at the comma
        (
            '{"agent": {"region": "eu-west-1",}}',
            "config: invalid JSON at line 1, column 34: Expecting property name enclosed in double quotes"
            if sys.version_info < (3, 13)
            else "config: invalid JSON at line 1, column 33: Illegal trailing comma before end of object",
        ),
        ('{\n  "agent": {\n    "region" "eu-west-1"\n  }\n}', "config: invalid JSON at line 3, column 14: Expecting ':' delimiter"),
        ("", "config: invalid JSON at line 1, column 1: Expecting value"),
        ('{"agent": {}, "agent": {}}', 'invalid JSON: duplicate key "agent"'),
    ],
)
def test_invalid_json_text(text, message):
    with pytest.raises(AgentConfigError) as raised:
        normalize_config(text)
    assert raised.value.message == message


@pytest.mark.parametrize(
    "value, message",
    [
        ("[1, 2]", "config: must be a JSON object (a dict), got array"),
        ('"agent"', "config: must be a JSON object (a dict), got string"),
        ([{"agent": {}}], "config: must be a JSON object (a dict), got array"),
        (42, "config: must be a JSON object (a dict), got integer"),
        (None, "config: must be a JSON object (a dict), got null"),
    ],
)
def test_config_that_is_not_an_object(value, message):
    with pytest.raises(AgentConfigError) as raised:
        normalize_config(value)
    assert str(raised.value) == message


@pytest.mark.parametrize("value", [{"a": float("nan")}, {"a": object()}, {1: "a", "b": 2}])
def test_config_that_cannot_be_written_as_json(value):
    with pytest.raises(AgentConfigError, match="^config: cannot be written as JSON: "):
        normalize_config(value)


def test_config_size_counts_utf8_bytes():
    _config, compact = normalize_config({"n": "é日🙂"})
    assert compact == '{"n":"é日🙂"}'
    assert len(compact) == 11
    assert config_size(compact) == 8 + 2 + 3 + 4
    assert config_size("") == 0


# ---- size and depth, before anything reads the value ----------------------------------------


@pytest.mark.parametrize("depth", [MAX_DEPTH, 5000])
def test_deep_text_is_refused_before_parsing_or_accepted_at_the_limit(depth):
    text = '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)
    if depth <= MAX_DEPTH:
        assert normalize_config(text)[1] == text
    else:
        with pytest.raises(AgentConfigError, match=f"nested more than {MAX_DEPTH} levels deep"):
            normalize_config(text)


def test_brackets_inside_strings_do_not_count_as_depth():
    text = r'{"a": "' + "[{" * 100 + r'\\", "b": "\\"}'
    assert normalize_config(text)[0]["b"] == "\\"


def test_deep_dict_is_refused_without_recursion():
    value = {}
    for _level in range(5000):
        value = {"a": [value]}
    with pytest.raises(AgentConfigError, match="nested more than"):
        normalize_config(value)


def test_oversized_text_is_refused_before_parsing():
    text = '{"a": "' + "x" * MAX_TEXT_BYTES + '"}'
    with pytest.raises(AgentConfigError, match=f"more than the {MAX_TEXT_BYTES} read"):
        normalize_config(text)


def test_paths_quote_keys_that_are_not_identifiers_and_sort_indexes_numerically():
    errors = [(("logs", "files", 10), "b"), (("logs", "files", 2), "a"), (("agent", "service.name"), "c"), ((), "d")]
    assert render_errors(errors) == ["(root): d", 'agent["service.name"]: c', "logs.files[2]: a", "logs.files[10]: b"]
    assert format_path(["metrics", "metrics_collected", "Network Interface"]) == 'metrics.metrics_collected["Network Interface"]'
