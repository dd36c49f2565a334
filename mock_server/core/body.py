"""The request body: read once, in any framing HTTP allows, and parsed as RFC 8259 JSON.

`read_body` is the only reader of a request's body on the API: Content-Length or chunked
(the server has undone the framing; ASGI hands over the bytes), capped at the gateway's 12 MB
(the reference: 413 APIGW.0201). `parse_json` is the only JSON parser: what RFC 8259 calls a
JSON text, in UTF-8, or 400 MSS.10000002 - never a 500.

Where RFC 8259 leaves a choice to the parser, the mock decides (and README's decisions say so):
numbers of any size are numbers (integers past Python's digit limit are kept as `Decimal`);
NaN and Infinity are not JSON; a byte order mark is refused (section 8.1: senders must not add
one); a string with an unpaired surrogate escape is refused (section 8.2: not interoperable);
a name repeated in one object is refused (section 4: behaviour is unpredictable otherwise);
nesting deeper than `MAX_DEPTH` is refused (section 9 allows a limit).
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from mock_server.core.asgi import Message, Receive, Scope
from mock_server.core.errors import ApiError, Codes
from mock_server.core.media import MediaTypeError, parse_media_type
from mock_server.core.text import header_text

# The gateway's cap on a request body (the reference: 413 APIGW.0201 over 12 MB).
MAX_BODY_BYTES = 12 * 1024 * 1024
# Deep enough for any real body (the API's are 2 levels); shallow enough that no recursive
# step after parsing (schema validation, copying) can hit Python's recursion limit.
MAX_DEPTH = 128
_INT_DIGITS = 4000  # below CPython's int/str conversion limit (4300 digits)
_MAYBE_DEEP = MAX_DEPTH // 2  # fewer brackets than this cannot nest too deep
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class ClientGone(Exception):
    """The client disconnected before the whole body arrived: there is no one to answer."""


def too_large() -> ApiError:
    return ApiError(Codes.ENTITY_TOO_LARGE, f"the body is over {MAX_BODY_BYTES} bytes")


async def read_body(scope: Scope, receive: Receive) -> bytes:
    """The whole request body. Raises 413 APIGW.0201 as soon as it is known to be over
    `MAX_BODY_BYTES` (a declared Content-Length first), `ClientGone` if the client left."""
    for name, value in scope["headers"]:
        if name.lower() == b"content-length" and value.strip().isdigit():
            if int(value) > MAX_BODY_BYTES:
                raise too_large()
            break
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientGone
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large()
        if chunk:
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the already-read body on once, then defers to the real one."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


_FRAMING = (b"content-length", b"transfer-encoding", b"content-type")


def forwarded_scope(scope: Scope, body: bytes) -> Scope:
    """The request as passed on once its body is read: `Content-Length` framing (whatever it
    came in), and `Content-Type` reduced to its parsed essence (`application/json ; charset=x`
    becomes `application/json`), so nothing downstream compares media types as strings.
    Raises 400 MSS.10000002 for a Content-Type that is not a media type. Shares `state`."""
    headers = [(name, value) for name, value in scope["headers"] if name.lower() not in _FRAMING]
    headers.append((b"content-length", str(len(body)).encode()))
    content_type = next(
        (value for name, value in scope["headers"] if name.lower() == b"content-type"), None
    )
    if content_type is not None:
        try:
            media_type = parse_media_type(header_text(content_type))
        except MediaTypeError as error:
            raise ApiError(Codes.BODY_NOT_JSON, f"Content-Type {error}") from None
        headers.append((b"content-type", media_type.essence.encode()))
    return {**scope, "headers": headers}


def parse_json(body: bytes) -> Any:
    """The JSON document in `body`; 400 MSS.10000002 saying why if it is not RFC 8259 JSON."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _not_json(f"not UTF-8 (byte {error.start})") from None
    if text.startswith("\ufeff"):
        raise _not_json("a byte order mark is not allowed (RFC 8259, section 8.1)")
    try:
        document = _DECODER.decode(text)
    except _Refused as refused:
        raise _not_json(str(refused)) from None
    except RecursionError:
        raise _not_json(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as error:
        raise _not_json(str(error)) from None
    if _SURROGATE_ESCAPE.search(body) and not _encodable(document):
        raise _not_json("a string has an unpaired surrogate (RFC 8259, section 8.2)")
    if body.count(b"[") + body.count(b"{") > _MAYBE_DEEP and _depth(document) > MAX_DEPTH:
        raise _not_json(f"nested deeper than {MAX_DEPTH} levels")
    return document


class _Refused(ValueError):
    pass


def _not_json(why: str) -> ApiError:
    return ApiError(Codes.BODY_NOT_JSON, why)


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number (RFC 8259, section 6)")


def _integer(digits: str) -> int | Decimal:
    return int(digits) if len(digits) <= _INT_DIGITS else Decimal(digits)


def _real(text: str) -> float | Decimal:
    number = float(text)
    return number if math.isfinite(number) else Decimal(text)  # 1e999 is a number, not inf


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _Refused(f"the name {name!r} appears twice in one object (RFC 8259, 4)")
            seen.add(name)
    return document


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object,
    parse_int=_integer,
    parse_float=_real,
    parse_constant=_constant,
    strict=True,
)


def _encodable(document: Any) -> bool:
    try:
        json.dumps(document, ensure_ascii=False, default=str).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _depth(document: Any) -> int:
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            stack.extend(
                (child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)
            )
    return deepest
