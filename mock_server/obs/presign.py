"""OBS V2 pre-signed PUT URLs: the mock issues them as ``data_uploading_url`` and checks uploads.

Query-string authentication as OBS documents it ("Authentication of Signature in a URL")::

    {base}/{bucket}/{key}?AccessKeyId=AK&Expires=<unix seconds>&Signature=<url-encoded base64>
    Signature    = base64(HMAC-SHA1(SK, UTF-8(StringToSign)))
    StringToSign = VERB \\n Content-MD5 \\n Content-Type \\n Expires \\n
                   CanonicalizedHeaders CanonicalizedResource

CanonicalizedHeaders are the request's ``x-obs-*`` headers, ``name:value\\n`` each, names
lower-cased and sorted, repeated headers joined with ``,``. CanonicalizedResource is ``/bucket/key``
with the key percent-encoded as in the URL path (``/`` kept), then the query's sub-resources
(:data:`SUB_RESOURCES`: ``partNumber``, ``uploadId``, ``acl``, ``versionId``... and any
``x-obs-*`` parameter) sorted by name, ``?name`` or ``?name=value`` joined with ``&``, values
decoded (OBS API reference, "Authentication of Signature in a URL"; esdk-obs-python's
``auth.Authentication``). So a URL signed without ``&partNumber=1&uploadId=abc`` and sent with them
does not match: 403 SignatureDoesNotMatch. Other query parameters (``AccessKeyId``, ``Expires``,
``Signature``, anything unknown) are not signed, as on OBS. Content-Type and Content-MD5 are
inside the signature, so an upload must send exactly the ones the URL was signed with
(``application/zip`` and no Content-MD5 for :func:`presign_put`'s URLs). A URL correctly signed
with a sub-resource (by a client holding the SK, as esdk-obs-python's ``createSignedUrl`` signs
one) names another operation than PUT Object, which the mock does not emulate: it stores nothing
and answers what OBS answers for what it cannot find (:func:`sub_resource_refusal`: an
``uploadId`` is 404 NoSuchUpload, the mock having no multipart uploads) or 501 NotImplemented.
``x-obs-*`` parameters are signed but name no operation. Limits, stated rather than hidden: no
``x-obs-security-token``, PUT only.

The method is the first line of the string to sign, so a URL signed for PUT does not match a
GET, HEAD, POST, DELETE... of the same URL: OBS answers those 403 SignatureDoesNotMatch, as
:func:`check_presigned` does (never 405: OBS has no such answer for a signed URL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from urllib.parse import quote

from mock_server.core.text import same_secret
from mock_server.obs.errors import ObsCodes, ObsError

__all__ = [
    "SUB_RESOURCES",
    "PresignError",
    "canonical_resource",
    "check_presigned",
    "presign_put",
    "string_to_sign",
    "sub_resource_refusal",
]

# The query parameters OBS signs as part of the CanonicalizedResource, compared lower-cased
# (OBS API reference, "Authentication of Signature in a URL"; the same list as esdk-obs-python
# 3.26's `const.ALLOWED_RESOURCE_PARAMTER_NAMES`). A parameter named `x-obs-*` is signed too.
SUB_RESOURCES = frozenset(
    {
        "acl", "backtosource", "policy", "torrent", "logging", "location", "storageinfo",
        "quota", "storageclass", "storagepolicy", "requestpayment", "versions", "versioning",
        "versionid", "uploads", "uploadid", "partnumber", "website", "notification",
        "dispolicy", "lifecycle", "deletebucket", "delete", "cors", "restore", "tagging",
        "replication", "metadata", "encryption", "publicaccessblock", "bucketstatus",
        "policystatus", "x-obs-accesslabel", "inventory", "obscompresspolicy", "object-lock",
        "retention", "directcoldaccess",
        # the file-system API
        "append", "position", "truncate", "modify", "rename", "length", "name",
        "fileinterface",
        # response header overrides and image processing
        "response-content-type", "response-content-language", "response-expires",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
        "x-image-save-bucket", "x-image-save-object", "x-image-process", "x-oss-process",
        # workflows and virtual buckets
        "x-workflow-prefix", "x-workflow-start", "x-workflow-limit",
        "x-workflow-template-name", "x-workflow-graph-name", "x-workflow-execution-state",
        "x-workflow-execution-type", "x-workflow-next-marker", "obsworkflowtriggerpolicy",
        "obsbucketalias", "obsalias",
    }
)  # fmt: skip
_OBS_PREFIX = "x-obs-"

_REQUIRED_PARAMS = ("AccessKeyId", "Expires", "Signature")
_SIGNATURE_HINT = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


class PresignError(ObsError):
    """An upload refused as OBS would: an :class:`ObsError` whose ``code`` is a row of
    :class:`ObsCodes` (HTTP status and OBS code) and whose ``message`` says why. On a signature
    mismatch ``signature_check`` holds the forensics (see :func:`_forensics`; no secret)."""

    signature_check: dict[str, object] | None = None


def _resource(bucket: str, key: str) -> str:
    """``/bucket/key`` as it appears in the URL path (and so in the string to sign)."""
    return f"/{_component(bucket)}/{quote(key, safe='/')}"


@lru_cache(maxsize=64)
def _component(text: str) -> str:
    """``text`` percent-encoded as one URL component. Cached: the bucket and the AK are the
    same in every URL a mock issues (a create's own cost, issue 23)."""
    return quote(text, safe="")


def signed_parameters(
    query: Mapping[str, str | None] | Iterable[tuple[str, str | None]],
) -> list[tuple[str, str | None]]:
    """The query parameters OBS signs (:data:`SUB_RESOURCES` and ``x-obs-*``, by lower-cased
    name), sorted by name as sent; an empty value counts as none (``?acl`` and ``?acl=`` alike)."""
    items = query.items() if isinstance(query, Mapping) else query
    return sorted(
        (
            (name, value or None)
            for name, value in items
            if name.lower() in SUB_RESOURCES or name.lower().startswith(_OBS_PREFIX)
        ),
        key=lambda pair: (pair[0], pair[1] or ""),  # a repeated name: `?acl` before `?acl=1`
    )


def canonical_resource(
    bucket: str,
    key: str,
    query: Mapping[str, str | None] | Iterable[tuple[str, str | None]] = (),
) -> str:
    """OBS' CanonicalizedResource: ``/bucket/key``, then ``?`` and the signed sub-resources
    (``name`` or ``name=value``, joined with ``&``; values as decoded, as OBS signs them)."""
    parts = [
        quote(name, safe="/") if value is None else f"{quote(name, safe='/')}={value}"
        for name, value in signed_parameters(query)
    ]
    return _resource(bucket, key) + ("?" + "&".join(parts) if parts else "")


def _obs_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-cased name -> value for every header (repeats joined with ``,``, as OBS does)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    table: dict[str, str] = {}
    for raw_name, raw_value in items:
        name, value = raw_name.lower(), raw_value.strip()
        table[name] = f"{table[name]},{value}" if name in table else value
    return table


def string_to_sign(
    method: str,
    content_md5: str,
    content_type: str,
    expires: int | str,
    obs_headers: Mapping[str, str],
    bucket: str,
    key: str,
    query: Mapping[str, str | None] | Iterable[tuple[str, str | None]] = (),
) -> str:
    """The OBS V2 StringToSign; ``obs_headers`` maps lower-case names to values (others ignored),
    ``query`` holds the request's query parameters (only the sub-resources are signed)."""
    resource = canonical_resource(bucket, key, query)
    return _to_sign(method, content_md5, content_type, expires, obs_headers, resource)


def _to_sign(
    method: str,
    content_md5: str,
    content_type: str,
    expires: int | str,
    obs_headers: Mapping[str, str],
    resource: str,
) -> str:
    """:func:`string_to_sign` for a CanonicalizedResource already made."""
    canonical_headers = "".join(
        f"{name}:{obs_headers[name]}\n" for name in sorted(obs_headers) if name.startswith("x-obs-")
    )
    return f"{method}\n{content_md5}\n{content_type}\n{expires}\n{canonical_headers}{resource}"


def _sign(sk: str, to_sign: str) -> str:
    digest = hmac.new(sk.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def presign_put(
    base_url: str,
    bucket: str,
    key: str,
    ak: str,
    sk: str,
    expires: int,
    content_type: str = "application/zip",
) -> str:
    """A URL that lets its holder PUT ``key`` into ``bucket`` until ``expires``.

    ``expires`` is the absolute expiry time in Unix seconds (the URL's ``Expires`` value), not a
    duration: the caller adds its validity period to its own clock, which keeps this pure.
    """
    # The resource once, for the string to sign (no sub-resource: the URL carries none) and
    # the URL's path; the query as urlencode(quote_via=quote) would spell it.
    resource = _resource(bucket, key)
    signature = _sign(sk, _to_sign("PUT", "", content_type, expires, {}, resource))
    query = f"AccessKeyId={_component(ak)}&Expires={expires}&Signature={quote(signature, safe='')}"
    return f"{base_url.rstrip('/')}{resource}?{query}"


def check_presigned(
    method: str,
    bucket: str,
    key: str,
    query: Mapping[str, str] | Iterable[tuple[str, str]],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    secret_for: Callable[[str], str | None],
    now: int,
) -> None:
    """Accept an upload through a pre-signed URL or raise :class:`PresignError`.

    ``bucket`` and ``key`` are the decoded path parts, ``query`` the decoded query parameters
    (a mapping, or the pairs in order: a repeated parameter's first value counts, as OBS reads it),
    ``headers`` the request headers (Content-Type, Content-MD5 and any ``x-obs-*`` matter),
    ``secret_for`` maps an AccessKeyId to its SK (``None`` if unknown), ``now`` is Unix seconds.
    Checks, in order: parameters present (403 SignatureDoesNotMatch), expiry (403
    AccessDenied), access key, then the signature over ``method`` (403 SignatureDoesNotMatch:
    a method other than the signed PUT never matches).
    """
    pairs = list(query.items() if isinstance(query, Mapping) else query)
    first: dict[str, str] = {}
    for name, value in pairs:
        first.setdefault(name, value)
    missing = [name for name in _REQUIRED_PARAMS if not first.get(name)]
    if missing:
        raise PresignError(
            ObsCodes.SIGNATURE_DOES_NOT_MATCH,
            f"{_SIGNATURE_HINT} Missing query parameter(s): {', '.join(missing)}.",
        )
    expires_value = first["Expires"]
    if not expires_value.isascii() or not expires_value.isdigit():
        raise PresignError(
            ObsCodes.SIGNATURE_DOES_NOT_MATCH,
            f"{_SIGNATURE_HINT} Expires must be Unix seconds, got {expires_value!r}.",
        )
    if now > int(expires_value):
        raise PresignError(
            ObsCodes.ACCESS_DENIED,
            f"Request has expired: Expires {expires_value} is before the server time {now}; "
            "ask for a new upload URL.",
        )
    access_key = first["AccessKeyId"]
    sk = secret_for(access_key)
    if sk is None:
        raise PresignError(
            ObsCodes.SIGNATURE_DOES_NOT_MATCH,
            f"{_SIGNATURE_HINT} The AccessKeyId {access_key!r} is not known.",
        )
    table = _obs_headers(headers)
    content_type = table.get("content-type", "")
    to_sign = string_to_sign(
        method,
        table.get("content-md5", ""),
        content_type,
        expires_value,
        table,
        bucket,
        key,
        first,
    )
    if not same_secret(first["Signature"], _sign(sk, to_sign)):
        error = PresignError(
            ObsCodes.SIGNATURE_DOES_NOT_MATCH,
            _mismatch(method, to_sign, table, signed_parameters(first.items())),
        )
        error.signature_check = _forensics(method, to_sign, table, expires_value, bucket, key)
        raise error


def sub_resource_refusal(
    query: Mapping[str, str] | Iterable[tuple[str, str]], resource: str
) -> ObsError | None:
    """Why an upload whose signature matched is not a PUT Object the mock stores, or None: a
    signed sub-resource (not ``x-obs-*``) names another operation (module docstring)."""
    names = [
        name
        for name, _ in signed_parameters(query.items() if isinstance(query, Mapping) else query)
        if not name.lower().startswith(_OBS_PREFIX)
    ]
    if not names:
        return None
    if any(name.lower() == "uploadid" for name in names):
        return ObsError(
            ObsCodes.NO_SUCH_UPLOAD,
            "The specified upload does not exist. The upload ID may be invalid, or the upload "
            "may have been aborted or completed.",
            resource,
        )
    return ObsError(
        ObsCodes.NOT_IMPLEMENTED,
        "A parameter you provided implies functionality that is not implemented: "
        f"{', '.join(dict.fromkeys(names))} (the mock emulates PUT Object only; nothing stored).",
        resource,
    )


def _forensics(
    method: str, to_sign: str, table: Mapping[str, str], expires: str, bucket: str, key: str
) -> dict[str, object]:
    """The mismatch as the mock saw it: its string to sign, the headers inside it, and the first
    line where it differs from the one the mock signed the URL with (PUT, no Content-MD5,
    ``application/zip``, no ``x-obs-*``): the line a client changed after getting the URL."""
    issued = string_to_sign("PUT", "", "application/zip", expires, {}, bucket, key)
    signed = ["content-md5", "content-type", *sorted(n for n in table if n.startswith("x-obs-"))]
    difference = None
    ours, theirs = to_sign.split("\n"), issued.split("\n")
    for number in range(max(len(ours), len(theirs))):
        left = ours[number] if number < len(ours) else None
        right = theirs[number] if number < len(theirs) else None
        if left != right:
            difference = {"line": number + 1, "mock": left, "rebuilt": right}
            break
    return {
        "algorithm": "OBS-V2-HMAC-SHA1",
        "canonical_request": None,
        "string_to_sign": to_sign,
        "signed_headers": signed,
        "missing_headers": [name for name in ("content-type",) if name not in table],
        "headers_sent": {name: table.get(name, "") for name in signed},
        "rebuilt_string_to_sign": issued,
        "first_difference": difference,
    }


def _mismatch(
    method: str,
    to_sign: str,
    headers: Mapping[str, str],
    sub_resources: list[tuple[str, str | None]],
) -> str:
    """Why a signature did not match, in the terms a user can act on."""
    if sub_resources:
        names = ", ".join(name for name, _ in sub_resources)
        return (
            f"{_SIGNATURE_HINT} The string to sign was {to_sign!r}: the query's sub-resources "
            f"({names}) are signed, so a URL signed without them does not match."
        )
    if method != "PUT":
        return (
            f"{_SIGNATURE_HINT} The string to sign was {to_sign!r}: this URL is signed for PUT, "
            f"and a {method} is signed differently."
        )
    content_type = headers.get("content-type", "")
    sent = f"Content-Type {content_type!r}" if content_type else "no Content-Type"
    return (
        f"{_SIGNATURE_HINT} The string to sign was {to_sign!r}; the upload must send the "
        f"Content-Type the URL was signed for (this request sent {sent})."
    )
