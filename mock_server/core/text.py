"""Client-controlled text, made safe to echo: header bytes decoded once, non-printables escaped.

HTTP carries header values as bytes (RFC 9110, section 5.5: historically ISO-8859-1, in practice
UTF-8, which the official SDK sends). `header_text` reads them as UTF-8 and keeps any byte that is
not UTF-8 as a lone surrogate (`surrogateescape`), so no input makes it raise and the original
bytes can always be recovered. `escape` then writes every non-printable character (controls,
ESC, line and paragraph separators, those surrogates) as a Python-style escape, so an error
message or a log line shows what was sent and cannot be split or coloured by it.
"""

from __future__ import annotations

import hmac
import re

_SAFE = re.compile(r'[^"\\]*')


def header_text(value: bytes) -> str:
    """A header value (or any raw request bytes) as text: UTF-8, undecodable bytes kept."""
    return value.decode("utf-8", "surrogateescape")


def header_bytes(text: str) -> bytes:
    """The inverse of `header_text`."""
    return text.encode("utf-8", "surrogateescape")


def same_secret(sent: str, expected: str) -> bool:
    """Whether client text (any code points, lone surrogates included) equals a secret, in time
    that does not depend on where they differ (`hmac.compare_digest`): the one comparison of
    every secret the mock checks (keys, tokens, passwords, signatures)."""
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def escape(text: str) -> str:
    """`text` with `"`, `\\` and every non-printable character backslash-escaped (`\\n`,
    `\\x1b`, `\\u2028`, `\\udcff` for an undecodable byte); printable text, non-ASCII included,
    is kept as it is."""
    if text.isprintable() and _SAFE.fullmatch(text):
        return text
    return "".join(_escape_char(char) for char in text)


def printable(text: str) -> str:
    """`text` with only its non-printable characters escaped (for messages, where quotes are
    fine): one line, valid UTF-8 whatever bytes the client sent."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _escape_char(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char.isprintable():
        return char
    return repr(char)[1:-1]  # \n, \x1b, \u2028, \udcff: never a quote for one of these


class Escaped:
    """Client text given to a log call, shown as `escape` makes it when a handler formats the
    record, and only then (the access line's fields: on its writer's thread, not the request's)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return escape(self.text)


class Printable(Escaped):
    """As `Escaped`, shown as `printable` makes it (quotes kept): for a message that quotes a
    request (`log.error("... %s", Printable(path))`). The mock's own command escapes whole
    messages (`accesslog.CachedTimeFormatter`); an embedding process (a user's pytest, caplog, a
    JSON log handler) formats them with its own formatter, so such a message must be safe before
    it reaches any handler."""

    __slots__ = ()

    def __str__(self) -> str:
        return printable(self.text)
