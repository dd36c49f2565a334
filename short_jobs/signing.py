"""AK/SK request signing, algorithm ``SDK-HMAC-SHA256``, as Huawei Cloud's official SDK does it.

This is the project's one implementation: the client signs with :func:`sign_request` and the mock
server checks with :func:`verify_request`, so the two can never disagree with each other, and the
tests pin both to ``huaweicloudsdkcore``'s ``Signer`` byte for byte.

The algorithm (the project's API reference, section 3)::

    canonical request = METHOD \\n canonical URI \\n canonical query \\n canonical headers \\n
                        signed header names \\n payload hash
    string to sign    = SDK-HMAC-SHA256 \\n X-Sdk-Date \\n sha256hex(canonical request)
    signature         = hex(HMAC-SHA256(SK, string to sign))
    Authorization     = SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=signature

Details that only the SDK's source tells, all reproduced here:

- The canonical URI percent-decodes the path (so ``%2F`` becomes a segment separator), re-encodes
  each segment keeping only ``A-Za-z0-9-_.~`` and appends ``/`` when the path does not end in one.
- Query pairs are sorted on their *decoded* (key, value), then encoded like path segments. Repeated
  keys give one ``k=v`` each; an empty value gives ``k=``. ``+`` is a literal plus, not a space
  (plain percent-decoding, as Huawei's API-gateway signer does).
- Canonical header lines are ``lower(name):value.strip()``; header names containing ``_`` are never
  signed; SignedHeaders is the sorted, lower-cased list.
- The payload hash is the hash of the empty string whenever the body is empty, even if
  ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` is set; otherwise that header's value when present,
  else sha256 of the body. (The SDK tests the body *object*: an empty file upload is signed with
  UNSIGNED-PAYLOAD; :func:`verify_request` accepts both forms for an empty body.)
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote, urlsplit

__all__ = [
    "ALGORITHM",
    "CONTENT_SHA256_HEADER",
    "DATE_FORMAT",
    "DATE_HEADER",
    "EMPTY_PAYLOAD_HASH",
    "MAX_CLOCK_SKEW",
    "UNSIGNED_PAYLOAD",
    "Authorization",
    "SignatureError",
    "canonical_headers",
    "canonical_query_string",
    "canonical_request",
    "canonical_uri",
    "format_sdk_date",
    "parse_authorization",
    "parse_query",
    "parse_sdk_date",
    "payload_hash",
    "scrub",
    "sign_request",
    "signature",
    "signature_check",
    "signed_header_names",
    "string_to_sign",
    "verify_request",
]

ALGORITHM = "SDK-HMAC-SHA256"
"""The only algorithm this module speaks (the SDK's default ``SigningAlgorithm``)."""

DATE_HEADER = "X-Sdk-Date"
"""Carries the signing time; it is part of the string to sign, so it is always covered."""

CONTENT_SHA256_HEADER = "X-Sdk-Content-Sha256"
"""When present (and the body is not empty), its value replaces the body's hash."""

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
"""The SDK sends this for non-JSON bodies (uploads) so it need not hash them."""

DATE_FORMAT = "%Y%m%dT%H%M%SZ"
"""UTC, basic ISO 8601, e.g. ``20240102T030405Z``."""

MAX_CLOCK_SKEW = timedelta(minutes=15)
"""The API gateway refuses an X-Sdk-Date further than this from its clock, either way."""

EMPTY_PAYLOAD_HASH = hashlib.sha256(b"").hexdigest()

_DATE_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_HEX_SIGNATURE_RE = re.compile(r"[0-9a-fA-F]+")
_ABSOLUTE_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# The SDK's ``quote(s, safe="~")``: Python always keeps A-Za-z0-9 and "_.-~"; nothing else.
_SAFE = "~"
# The SDK encodes header values as UTF-8; surrogateescape keeps undecodable bytes round-tripping.
_TEXT_ERRORS = "surrogateescape"

HeaderItems = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]
"""Request headers as a server sees them: a mapping, or (name, value) pairs (ASGI gives bytes)."""


class SignatureError(Exception):
    """A request's AK/SK signature is refused; ``reason`` tells the caller what to fix.

    On a mismatch, ``canonical_request`` holds what the server signed, for comparing with the
    client's (it contains no secret), and ``check`` the forensic record of
    :func:`signature_check` (also for a signed header missing from the request).
    """

    def __init__(
        self,
        reason: str,
        canonical_request: str | None = None,
        check: dict[str, object] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.canonical_request = canonical_request
        self.check = check


@dataclass(frozen=True, slots=True)
class Authorization:
    """The three parts of an ``Authorization: SDK-HMAC-SHA256 ...`` header."""

    access_key: str
    signed_headers: list[str]
    signature: str

    def __str__(self) -> str:
        return (
            f"{ALGORITHM} Access={self.access_key}, "
            f"SignedHeaders={';'.join(self.signed_headers)}, Signature={self.signature}"
        )


# --- building blocks -------------------------------------------------------------------------


def _text(value: str | bytes) -> str:
    """Header/URL bytes as the text the SDK signed (it sends UTF-8)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", _TEXT_ERRORS)
    return value


def _encode(value: str) -> str:
    """Percent-encode everything but ``A-Za-z0-9-_.~`` (the SDK's ``_url_encode``)."""
    return quote(value, safe=_SAFE, errors=_TEXT_ERRORS)


def canonical_uri(raw_path: str | bytes) -> str:
    """The path as signed: decoded, each segment re-encoded, with a trailing ``/``.

    Works on the raw path as sent on the wire (``%``-escapes and all); since it decodes first, any
    equivalent escaping (``%41`` vs ``A``, ``%20`` vs a literal space) gives the same result, which
    is why a server can verify the raw path it received against what the client signed.
    """
    path = unquote(_text(raw_path))
    encoded = "/".join(_encode(segment) for segment in path.split("/"))
    if not encoded.endswith("/"):
        encoded += "/"
    return encoded


def parse_query(query_string: str | bytes) -> list[tuple[str, str]]:
    """Split a raw query string into decoded (key, value) pairs, in order.

    Splits on ``&`` only, decodes ``%XX`` but keeps ``+`` as ``+`` (the gateway signer's rule), maps
    ``k`` and ``k=`` both to ``(k, "")`` and drops pieces whose key is empty (``&&``, ``=v``).
    """
    pairs: list[tuple[str, str]] = []
    for piece in _text(query_string).split("&"):
        key, _, value = piece.partition("=")
        if key:
            pairs.append((unquote(key), unquote(value)))
    return pairs


def canonical_query_string(query: str | bytes | Sequence[tuple[str, str]]) -> str:
    """``k=v`` pairs sorted on decoded (key, value), encoded, joined with ``&``; ``""`` if none.

    ``query`` is either a raw query string or already-decoded pairs (what the SDK holds). The SDK
    also sends this exact string on the wire as the request's query.
    """
    pairs = parse_query(query) if isinstance(query, str | bytes) else list(query)
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in sorted(pairs))


def signed_header_names(names: Iterable[str]) -> list[str]:
    """The SDK's choice of headers to sign: every name without ``_``, lower-cased, sorted."""
    return sorted({name.lower() for name in names if "_" not in name})


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def canonical_headers(headers: Mapping[str, str], signed_headers: Sequence[str]) -> str:
    """One ``name:value.strip()\\n`` line per signed header, in ``signed_headers`` order.

    Lookup is case-insensitive; a signed header missing from ``headers`` raises ``KeyError``.
    """
    by_name = _lower_keys(headers)
    return "".join(f"{name}:{by_name[name.lower()].strip()}\n" for name in signed_headers)


def payload_hash(body: bytes, content_sha256: str | None) -> str:
    """The last line of the canonical request, exactly the SDK's ``_process_hash_payload``.

    An empty body always hashes as the empty string, even when ``content_sha256`` (the value of
    X-Sdk-Content-Sha256) is set; otherwise that value wins over hashing the body.
    """
    if not body:
        return EMPTY_PAYLOAD_HASH
    if content_sha256:
        return content_sha256
    return hashlib.sha256(body).hexdigest()


def canonical_request(
    method: str,
    raw_path: str | bytes,
    query: str | bytes | Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """The six-line canonical request the SDK hashes (see the module docstring)."""
    return "\n".join(
        [
            method.upper(),
            canonical_uri(raw_path),
            canonical_query_string(query),
            canonical_headers(headers, signed_headers),
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def string_to_sign(canonical: str, sdk_date: str) -> str:
    """``SDK-HMAC-SHA256\\n{X-Sdk-Date}\\n{sha256hex(canonical request)}``."""
    digest = hashlib.sha256(canonical.encode("utf-8", _TEXT_ERRORS)).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(sk: str, to_sign: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed with the SK's UTF-8 bytes."""
    key = sk.encode("utf-8")
    return hmac.new(key, to_sign.encode("utf-8", _TEXT_ERRORS), hashlib.sha256).hexdigest()


def _utc(moment: datetime) -> datetime:
    """Aware UTC datetime; a naive one is taken to be UTC already (as the SDK's utcnow())."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_sdk_date(moment: datetime) -> str:
    """X-Sdk-Date value for ``moment`` (naive means UTC)."""
    return _utc(moment).strftime(DATE_FORMAT)


def parse_sdk_date(value: str) -> datetime:
    """Aware UTC datetime from an X-Sdk-Date value; ``ValueError`` unless ``YYYYMMDDTHHMMSSZ``.

    Stricter than the SDK's ``strptime`` (which would accept ``2024111T...``) so that the value
    signed is always the value sent.
    """
    if not _DATE_RE.fullmatch(value):
        raise ValueError(f"X-Sdk-Date {value!r} is not in the format YYYYMMDDTHHMMSSZ")
    return datetime.strptime(value, DATE_FORMAT).replace(tzinfo=UTC)


def parse_authorization(value: str) -> Authorization:
    """Parse ``SDK-HMAC-SHA256 Access=.., SignedHeaders=a;b, Signature=..``.

    Raises :class:`SignatureError` for another algorithm or a header that is not of this shape.
    """
    algorithm, _, params = value.strip().partition(" ")
    if not params:
        raise SignatureError(
            f"malformed Authorization header: expected '{ALGORITHM} Access=..., "
            "SignedHeaders=..., Signature=...'"
        )
    if algorithm != ALGORITHM:
        raise SignatureError(f"unsupported algorithm {algorithm!r}: only {ALGORITHM} is accepted")
    fields: dict[str, str] = {}
    for part in params.split(","):
        name, eq, field_value = part.strip().partition("=")
        if eq:
            fields[name] = field_value.strip()
    missing = [f for f in ("Access", "SignedHeaders", "Signature") if not fields.get(f)]
    if missing:
        raise SignatureError(
            f"malformed Authorization header: missing or empty {', '.join(missing)}"
        )
    signed = fields["SignedHeaders"].split(";")
    if any(not name for name in signed):
        raise SignatureError("malformed Authorization header: empty name in SignedHeaders")
    if not _HEX_SIGNATURE_RE.fullmatch(fields["Signature"]):
        raise SignatureError("malformed Authorization header: Signature is not hexadecimal")
    return Authorization(fields["Access"], signed, fields["Signature"])


# --- client side -----------------------------------------------------------------------------


def _split_target(url_or_path_and_query: str) -> tuple[str, str, str]:
    """(netloc, path, query) of an absolute URL or of ``/path?query`` (netloc then empty)."""
    if _ABSOLUTE_URL_RE.match(url_or_path_and_query):
        parts = urlsplit(url_or_path_and_query)
        return parts.netloc.rpartition("@")[2], parts.path or "/", parts.query
    path, _, query = url_or_path_and_query.partition("?")
    return "", path.partition("#")[0] or "/", query.partition("#")[0]


def sign_request(
    method: str,
    url_or_path_and_query: str,
    headers: Mapping[str, str],
    body: bytes,
    ak: str,
    sk: str,
    now: datetime | None = None,
) -> dict[str, str]:
    """Sign a request as the SDK's ``Signer.sign`` does; return the headers to add to it.

    ``headers`` are all headers the request will carry that the caller wants signed (every one
    whose name has no ``_`` is), including ``Host`` as sent (``host[:port]``); if Host is absent,
    it is taken from an absolute ``url_or_path_and_query`` and returned. The result holds
    ``Authorization``, ``X-Sdk-Date`` (only if the caller did not set it; ``now`` or the current
    time), ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` when Content-Type is set and is not
    ``application/json*`` or ``application/bson*``, and possibly ``Host``. They replace any
    same-named headers (case-insensitively); an Authorization in ``headers`` is ignored.
    """
    if not ak or not sk:
        raise ValueError("both the access key (AK) and the secret key (SK) are required")
    netloc, path, query = _split_target(url_or_path_and_query)
    signing: dict[str, tuple[str, str]] = {
        name.lower(): (name, value)
        for name, value in headers.items()
        if name.lower() != "authorization"
    }
    added: dict[str, str] = {}

    def add(name: str, value: str) -> None:
        added[name] = value
        signing[name.lower()] = (name, value)

    content_type = signing.get("content-type", ("", ""))[1]
    if content_type and not content_type.startswith(("application/json", "application/bson")):
        add(CONTENT_SHA256_HEADER, UNSIGNED_PAYLOAD)
    if DATE_HEADER.lower() in signing:
        sdk_date = format_sdk_date(parse_sdk_date(signing[DATE_HEADER.lower()][1]))
    else:
        sdk_date = format_sdk_date(now if now is not None else datetime.now(UTC))
        add(DATE_HEADER, sdk_date)
    if "host" not in signing:
        if not netloc:
            raise ValueError("a Host header, or an absolute URL to take it from, is required")
        add("Host", netloc)

    values = dict(signing.values())
    names = signed_header_names(values)
    # The SDK strips header values before it reads this one for the payload hash.
    content_sha256 = signing.get(CONTENT_SHA256_HEADER.lower(), ("", ""))[1].strip()
    canonical = canonical_request(
        method, path, query, values, names, payload_hash(body, content_sha256 or None)
    )
    sig = signature(sk, string_to_sign(canonical, sdk_date))
    added["Authorization"] = str(Authorization(ak, names, sig))
    return added


# --- server side -----------------------------------------------------------------------------


def _header_table(headers: HeaderItems) -> dict[str, str]:
    """Lower-cased name -> value; repeated headers joined with ``", "`` (RFC 9110 field rules)."""
    items: Iterable[tuple[str | bytes, str | bytes]] = (
        headers.items() if isinstance(headers, Mapping) else headers
    )
    table: dict[str, str] = {}
    for raw_name, raw_value in items:
        name, value = _text(raw_name).lower(), _text(raw_value)
        table[name] = f"{table[name]}, {value}" if name in table else value
    return table


def verify_request(
    method: str,
    raw_path: str | bytes,
    query_string: str | bytes,
    headers: HeaderItems,
    body: bytes,
    secret_for: Callable[[str], str | None],
    now: datetime,
) -> str:
    """Check a received request's signature; return its access key or raise :class:`SignatureError`.

    Give the path and query exactly as received (ASGI ``raw_path`` and ``query_string``) and header
    values as bytes when you can: a ``str`` value is taken as the header's text, so a framework
    that decoded UTF-8 bytes as Latin-1 must hand over the raw bytes instead. ``secret_for`` maps
    an AK to its SK (``None`` if unknown); ``now`` is the server's clock (naive means UTC).

    The signature covers whatever SignedHeaders names; X-Sdk-Date is covered regardless (it is in
    the string to sign). When X-Sdk-Content-Sha256 carries a hash rather than UNSIGNED-PAYLOAD, the
    body must match it, so a hash header cannot be used to smuggle in another body.
    """
    table = _header_table(headers)
    auth_value = table.get("authorization")
    if not auth_value:
        raise SignatureError("missing Authorization header (AK/SK auth needs one)")
    auth = parse_authorization(auth_value)

    sdk_date = table.get(DATE_HEADER.lower())
    if not sdk_date:
        raise SignatureError(f"missing {DATE_HEADER} header")
    try:
        signed_at = parse_sdk_date(sdk_date.strip())
    except ValueError as exc:
        raise SignatureError(f"bad {DATE_HEADER} header: {exc}") from None
    server_time = _utc(now)
    if abs(server_time - signed_at) > MAX_CLOCK_SKEW:
        raise SignatureError(
            f"signature expired: {DATE_HEADER} {sdk_date.strip()} is more than "
            f"{int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes from the server time "
            f"{format_sdk_date(server_time)}; check the client's clock"
        )

    sk = secret_for(auth.access_key)
    if sk is None:
        raise SignatureError(f"access key {auth.access_key!r} not found")

    missing = [name for name in auth.signed_headers if name.lower() not in table]
    if missing:
        raise SignatureError(
            f"signed header(s) missing from the request: {', '.join(missing)}",
            check=signature_check(
                method, raw_path, query_string, table, body, auth, sdk_date.strip()
            ),
        )

    content_sha256 = table.get(CONTENT_SHA256_HEADER.lower(), "").strip()
    if (
        body
        and content_sha256
        and content_sha256 != UNSIGNED_PAYLOAD
        and not hmac.compare_digest(
            content_sha256.lower().encode("ascii", "replace"),
            hashlib.sha256(body).hexdigest().encode("ascii"),
        )
    ):
        raise SignatureError(f"{CONTENT_SHA256_HEADER} does not match the request body")

    # An empty body hashes as "" (SDK with no body), except that the SDK signs an empty *stream*
    # (an empty file upload) with the X-Sdk-Content-Sha256 value: both describe the same empty
    # body, so both are accepted.
    hashes = [payload_hash(body, content_sha256 or None)]
    if not body and content_sha256:
        hashes.append(content_sha256)
    canonicals = [
        canonical_request(method, raw_path, query_string, table, auth.signed_headers, hashed)
        for hashed in hashes
    ]
    for canonical in canonicals:
        expected = signature(sk, string_to_sign(canonical, sdk_date.strip()))
        if hmac.compare_digest(expected.encode("ascii"), auth.signature.encode("ascii")):
            return auth.access_key
    raise SignatureError(
        "signature mismatch",
        canonical_request=canonicals[0],
        check=signature_check(method, raw_path, query_string, table, body, auth, sdk_date.strip()),
    )


def _first_difference(ours: str, theirs: str) -> dict[str, object] | None:
    """1-based number and both texts of the first line where two canonical requests differ."""
    mine, other = ours.split("\n"), theirs.split("\n")
    for number in range(max(len(mine), len(other))):
        left = mine[number] if number < len(mine) else None
        right = other[number] if number < len(other) else None
        if left != right:
            return {"line": number + 1, "mock": left, "rebuilt": right}
    return None


def signature_check(
    method: str,
    raw_path: str | bytes,
    query_string: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    auth: Authorization,
    sdk_date: str,
) -> dict[str, object]:
    """What a server computed for a refused signature, for the person debugging the signer.

    ``headers`` is the lower-cased table of the request's headers. The result (JSON-ready, no
    secret: the SK is never an input) holds ``access_key``; ``canonical_request`` and
    ``string_to_sign`` as the server built them from the client's SignedHeaders (a missing header
    gives an empty value); ``signed_headers`` (the client's list); ``missing_headers`` (named but
    not sent); ``unsigned_headers`` (sent, signable by the SDK's rule, but not named: a header
    added or renamed after signing shows here); ``rebuilt_canonical_request`` with the headers
    the SDK would have signed from what arrived; and ``first_difference`` between the two
    (``{"line": n, "mock": .., "rebuilt": ..}`` or None when the headers agree, so the body, the
    path, the query or the key is what differs).
    """
    content_sha256 = headers.get(CONTENT_SHA256_HEADER.lower(), "").strip()
    hashed = payload_hash(body, content_sha256 or None)
    declared = [name.lower() for name in auth.signed_headers]
    present = {name: value for name, value in headers.items() if name != "authorization"}
    filled = {name: present.get(name, "") for name in declared} | present
    ours = canonical_request(method, raw_path, query_string, filled, declared, hashed)
    sdk_names = signed_header_names(present)
    rebuilt = canonical_request(method, raw_path, query_string, present, sdk_names, hashed)
    return {
        "algorithm": ALGORITHM,
        "access_key": auth.access_key,
        "canonical_request": ours,
        "string_to_sign": string_to_sign(ours, sdk_date),
        "signed_headers": list(auth.signed_headers),
        "missing_headers": [name for name in declared if name not in present],
        "unsigned_headers": [name for name in sdk_names if name not in declared],
        "payload_hash": hashed,
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "rebuilt_canonical_request": rebuilt,
        "first_difference": _first_difference(ours, rebuilt),
    }


SCRUBBED = "***"
"""What :func:`scrub` puts in place of a secret."""


def scrub(record: object, secrets: Iterable[str | None]) -> object:
    """``record`` (JSON-like: dicts, lists, strings) with every occurrence of each secret replaced
    by ``***``: the one place a signature check is cleaned before it is journaled or logged (the
    SK and a temporary AK's security token never leave the server)."""
    hidden = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
    if isinstance(record, str):
        for secret in hidden:
            record = record.replace(secret, SCRUBBED)
        return record
    if isinstance(record, dict):
        return {key: scrub(value, hidden) for key, value in record.items()}
    if isinstance(record, list):
        return [scrub(value, hidden) for value in record]
    return record
