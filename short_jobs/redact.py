"""The one scrubber of secrets: everything the toolkit prints, logs or writes goes through it.

What is replaced by ``REDACTED``, and why each:

- every secret value the toolkit was given or saw (:func:`remember`: the SK, IAM tokens, the
  security token of temporary AK/SK, signatures and pre-signed URL credentials a run learned),
  in its raw and URL-encoded forms, wherever it occurs: a service's error message may echo one;
- the userinfo of any URL (``http://alice:s3cret@host`` reads ``http://REDACTED@host``): an
  endpoint or a proxy variable may carry a password;
- the credential parameters of an ``Authorization`` header (``Access=``, ``Signature=``; what
  follows ``Basic``, ``Bearer`` or ``Digest``, as httpx sends userinfo) and of
  a pre-signed URL's query (``AccessKeyId``, ``Signature``, ``x-obs-security-token``,
  ``X-Amz-*`` ones), even when their values were never seen;
- the value after a secret header's or field's name (``X-Auth-Token``, ``X-Subject-Token``,
  ``X-Security-Token``, ``security_token``, ``password``, IAM's ``secret``...), as ``name: value``,
  ``name=value`` or ``"name": "value"``.

A known value shorter than :data:`MIN_SECRET` characters is not swept as a value (it would eat
ordinary words); real SKs and tokens are far longer, and the patterns above still apply.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote, unquote

__all__ = [
    "AUTH_PARTS",
    "MIN_SECRET",
    "REDACTED",
    "SECRET_HEADERS",
    "SECRET_QUERY",
    "ScrubFilter",
    "forget_all",
    "is_secret_query",
    "known",
    "remember",
    "scrub",
    "scrub_data",
    "scrub_header",
]

REDACTED = "REDACTED"
MIN_SECRET = 6

SECRET_HEADERS = frozenset(
    {
        "x-auth-token",
        "x-subject-token",
        "x-security-token",
        "cookie",
        "set-cookie",
        "proxy-authorization",
    }
)
"""Headers whose whole value is a credential."""

SECRET_QUERY = re.compile(
    r"(?P<key>AccessKeyId|Signature|x-obs-security-token|X-Amz-Signature|X-Amz-Credential"
    r"|X-Amz-Security-Token|SecurityToken)=(?P<value>[^&,\"'\s<>]+)",
    re.IGNORECASE,
)
"""Credential parameters of a pre-signed URL's query (OBS and S3 style)."""

AUTH_PARTS = re.compile(r"(?P<key>\bAccess|\bSignature)=(?P<value>[^,\s\"'&<>]+)")
# Greedy up to the authority's last "@", as URL parsers split it (a password may hold an "@").
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/?#\s\"'<>]*)@")
_NAMED = re.compile(
    r"(?P<key>\b(?:x-auth-token|x-subject-token|x-security-token|proxy-authorization"
    r"|security[_-]?token|password|passwd|secret|secret[_-]?key|sk)\b(?:\\*[\"'])?\s*[:=]\s*"
    r"(?:\\*[\"'])?)"
    # up to a quote, a separator or a backslash that escapes a quote (JSON inside JSON)
    r"(?P<value>(?:[^\s\"',;&<>}\\]|\\+(?![\\\"']))+)",
    re.IGNORECASE,
)

_SCHEMES = re.compile(r"(?P<key>\b(?:Basic|Bearer|Digest)\s+)(?P<value>[A-Za-z0-9+/=._~-]+)")
"""An ``Authorization`` (or ``Proxy-Authorization``) header's credentials after its scheme."""

_known: set[str] = set()

T = TypeVar("T")


def remember(value: str | None) -> None:
    """Scrub ``value`` (and its URL-encoded forms) from every later output of this process."""
    if value and len(value) >= MIN_SECRET:
        forms = {value, quote(value, safe=""), quote(value), unquote(value)}
        # as a JSON string spells it (a body echoing it, a HAR's text), once and twice over
        forms |= {_json_inner(form) for form in set(forms)}
        forms |= {_json_inner(form) for form in set(forms)}
        _known.update(form for form in forms if len(form) >= MIN_SECRET)


def _json_inner(text: str) -> str:
    return json.dumps(text)[1:-1]


def known() -> frozenset[str]:
    """The secret values remembered so far (for a check that none survived)."""
    return frozenset(_known)


def forget_all() -> None:
    """Forget every remembered value (tests that run many configurations in one process)."""
    _known.clear()


def is_secret_query(name: str) -> bool:
    """Whether a query parameter named ``name`` is a pre-signed URL's credential."""
    return SECRET_QUERY.fullmatch(f"{name}=x") is not None


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every secret replaced by ``REDACTED`` (see the module docstring).

    ``extra``: more values to sweep for this call only (a recorder's own).
    """
    values = set(_known)
    values.update(value for value in extra if len(value) >= MIN_SECRET)
    # Longest first, so a value's URL-encoded form is not half-replaced by a shorter form.
    for value in sorted(values, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
    return _redact_spans(text)


# Each pattern and the group that holds its credential. Every pattern is matched against the same
# text, and the union of what they found is replaced: replacing one pattern's finds before the
# next is matched let a value swallow the next one's key ("Bearer X-Auth-Token: tok" lost its
# header name to the scheme's value, and "tok" was left).
_FINDERS = (
    (_USERINFO, "userinfo"),
    (SECRET_QUERY, "value"),
    (AUTH_PARTS, "value"),
    (_SCHEMES, "value"),
    (_NAMED, "value"),
)


def _found(pattern: re.Pattern[str], group: str, text: str) -> Iterator[tuple[int, int]]:
    """The span of `group` in every match of `pattern`, those starting inside another match
    included (`finditer` resumes after a match, so "password: X-Auth-Token: tok" would give only
    "X-Auth-Token:" as the password)."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        yield match.span(group)
        position = match.start() + 1


def _redact_spans(text: str) -> str:
    spans = sorted(span for pattern, group in _FINDERS for span in _found(pattern, group, text))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[str] = []
    kept = 0
    for start, end in merged:
        parts += (text[kept:start], REDACTED)
        kept = end
    parts.append(text[kept:])
    return "".join(parts)


def scrub_header(name: str, value: str, extra: Iterable[str] = ()) -> str:
    """A header's value as it may be shown: a secret header's is ``REDACTED`` whole."""
    return REDACTED if name.lower() in SECRET_HEADERS else scrub(value, extra)


def scrub_data(node: T, extra: Iterable[str] = ()) -> T:
    """``node`` (JSON-like: dicts, lists, strings) with :func:`scrub` applied to every string
    value; keys are the writer's own names and stay."""
    extra = tuple(extra)
    result: Any
    if isinstance(node, dict):
        result = {key: scrub_data(value, extra) for key, value in node.items()}
    elif isinstance(node, list | tuple):
        result = [scrub_data(value, extra) for value in node]
    elif isinstance(node, str):
        result = scrub(node, extra)
    else:
        result = node
    return result  # type: ignore[no-any-return]


class ScrubFilter(logging.Filter):
    """A `logging.Filter` that scrubs a record's message (its arguments merged in first).

    Installed on the loggers of the libraries the toolkit drives (``httpx`` logs every request's
    URL at INFO, a pre-signed URL's ``Signature`` included) when this module is first imported,
    so a user's ``logging.basicConfig(level=logging.INFO)`` writes no credential. (A logger's
    filter sees only its own records; the toolkit's loggers log errors, whose ``str()`` is
    scrubbed.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


_LIBRARY_LOGGERS = ("httpx", "httpcore")


def _install_filters() -> None:
    for name in _LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, ScrubFilter) for existing in logger.filters):
            logger.addFilter(ScrubFilter())


_install_filters()
