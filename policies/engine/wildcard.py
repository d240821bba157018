"""Wildcard patterns (`*` any run, `?` one character) compiled to linear-time matchers.

Every other character is literal, including regex metacharacters. Patterns with several `*`
use atomic groups: each middle segment binds to its leftmost occurrence and is never
re-tried, so matching stays linear in the input (no catastrophic backtracking).
"""

from __future__ import annotations

import re
from collections.abc import Callable

Matcher = Callable[[str], bool]


def _segment_regex(segment: str) -> str:
    return "".join("." if ch == "?" else re.escape(ch) for ch in segment)


def _always(_: str) -> bool:
    return True


def compile_pattern(pattern: str, *, ignore_case: bool = False) -> Matcher:
    """Return a predicate telling whether a string matches `pattern` in full.

    With ignore_case the pattern is folded to lower case; callers pass lower-cased input.
    """
    if ignore_case:
        pattern = pattern.lower()
    if pattern == "*":
        return _always
    if "*" not in pattern and "?" not in pattern:
        return pattern.__eq__
    segments = pattern.split("*")
    if len(segments) == 2 and segments[1] == "" and "?" not in segments[0]:
        return _prefix_matcher(segments[0])
    if len(segments) == 1:
        regex = _segment_regex(pattern) + r"\Z"
    else:
        head, *middle, tail = segments
        parts = [_segment_regex(head)]
        parts.extend(f"(?>.*?{_segment_regex(seg)})" for seg in middle if seg)
        parts.append(".*" + _segment_regex(tail) + r"\Z")
        regex = "".join(parts)
    compiled = re.compile(regex, re.DOTALL)

    def match(value: str) -> bool:
        return compiled.match(value) is not None

    return match


def _prefix_matcher(prefix: str) -> Matcher:
    def match(value: str) -> bool:
        return value.startswith(prefix)

    return match


def reference_match(pattern: str, value: str) -> bool:
    """Obviously-correct (quadratic) matcher used to test `compile_pattern`."""
    n, m = len(pattern), len(value)
    # reachable[j] is True when pattern[:i] can match value[:j].
    reachable = [True] + [False] * m
    for i in range(n):
        ch = pattern[i]
        nxt = [False] * (m + 1)
        if ch == "*":
            seen = False
            for j in range(m + 1):
                seen = seen or reachable[j]
                nxt[j] = seen
        else:
            for j in range(m):
                if reachable[j] and (ch == "?" or ch == value[j]):
                    nxt[j + 1] = True
        reachable = nxt
    return reachable[m]
