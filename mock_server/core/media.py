"""Media types parsed per RFC 9110, section 8.3.1, not compared as strings.

    media-type = type "/" subtype parameters
    parameters = *( OWS ";" OWS [ parameter ] )
    parameter  = parameter-name "=" parameter-value
    parameter-value = ( token / quoted-string )

Type, subtype and parameter names are case-insensitive; whitespace may surround the `;`. So
`application/json ; charset=utf-8` and `Application/JSON;charset="UTF-8"` are JSON.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# qdtext and quoted-pair: anything but controls (HTAB allowed); obs-text read as decoded text
_QUOTED = r'"(?:[^\x00-\x08\x0a-\x1f\x7f"\\]|\\[^\x00-\x08\x0a-\x1f\x7f])*"'
_OWS = r"[ \t]*"
_ESSENCE = re.compile(rf"{_OWS}({_TOKEN})/({_TOKEN}){_OWS}")
_PARAMETER = re.compile(rf";{_OWS}(?:({_TOKEN})=({_TOKEN}|{_QUOTED}))?{_OWS}")
_QUOTED_PAIR = re.compile(r"\\(.)")

JSON = "application/json"


@dataclass(frozen=True, slots=True)
class MediaType:
    """A parsed media type: `type/subtype` lower-cased, parameter names lower-cased, values
    unquoted (their case kept: only some parameters, like charset, are case-insensitive)."""

    type: str
    subtype: str
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def essence(self) -> str:
        return f"{self.type}/{self.subtype}"


class MediaTypeError(ValueError):
    """A Content-Type value that is not a media type."""


@functools.lru_cache(maxsize=256)
def parse_media_type(value: str) -> MediaType:
    """Parse a Content-Type value; raise `MediaTypeError` if it is not RFC 9110's grammar.
    (Memoized: clients send the same few values. The result must not be changed.)"""
    essence = _ESSENCE.match(value)
    if essence is None:
        raise MediaTypeError(f"{value!r} is not a media type (RFC 9110: type/subtype)")
    parameters: dict[str, str] = {}
    position = essence.end()
    while position < len(value):
        parameter = _PARAMETER.match(value, position)
        if parameter is None:
            raise MediaTypeError(f"{value!r} has a malformed parameter (RFC 9110, 8.3.1)")
        name, raw = parameter.group(1, 2)
        if name is not None:
            if raw.startswith('"'):
                raw = _QUOTED_PAIR.sub(r"\1", raw[1:-1])
            parameters.setdefault(name.lower(), raw)
        position = parameter.end()
    return MediaType(essence.group(1).lower(), essence.group(2).lower(), parameters)


def is_json(media_type: MediaType) -> bool:
    """Whether a body of this media type is read as JSON (RFC 8259 defines no parameters for
    `application/json`; a charset, if any, is ignored: JSON text is UTF-8)."""
    return media_type.essence == JSON
