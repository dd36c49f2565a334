"""Record every exchange as HAR 1.2, with the secrets scrubbed.

HAR ("HTTP Archive", http://www.softwareishard.com/blog/har-12-spec/) is what browsers'
developer tools export and import, so a run can be opened in Chrome or Firefox, or attached to a
vendor's support ticket. The recorder is an httpx response event hook (httpx's documented
extension point): it sees each request as it went on the wire, after signing, and its answer.

Scrubbed before anything is written, by the toolkit's one scrubber (:mod:`short_jobs.redact`,
which lists what it replaces by ``REDACTED``): headers (the ``Signature=`` and ``Access=`` parts
of ``Authorization``; the whole value of ``X-Auth-Token``, ``X-Security-Token``, ``Cookie``...),
URLs, query strings and bodies (a pre-signed URL's credentials wherever it appears, userinfo),
then every secret value seen along the way or known to the process, wherever it still occurs (an
error message that echoes a signature, say). Writing refuses if one would survive.

Binary request bodies (the zip) are not stored, only their size.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import httpx

from short_jobs.conformance.exchange import Exchange
from short_jobs.redact import (
    AUTH_PARTS,
    MIN_SECRET,
    REDACTED,
    SECRET_HEADERS,
    is_secret_query,
    known,
    scrub,
    scrub_data,
    scrub_header,
)

__all__ = ["REDACTED", "Recorder", "SecretLeak"]

HAR_VERSION = "1.2"

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/problem+json")


class SecretLeak(RuntimeError):
    """A secret would have been written to the HAR file; nothing was written."""


@dataclass(frozen=True)
class _Entry:
    request: httpx.Request
    response: httpx.Response
    started: datetime
    seconds: float
    label: str


class Recorder:
    """Collects the exchanges of a run; :meth:`hooks` goes to every httpx client it uses.

    ``exchanges`` lists them as :class:`Exchange` (body read), oldest first; :meth:`write` saves
    the HAR file.
    """

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self.exchanges: list[Exchange] = []
        self.label = ""
        self._secrets: set[str] = set()
        self._starts: dict[int, tuple[datetime, float]] = {}

    def hooks(self) -> dict[str, list[Callable[[Any], Any]]]:
        """``event_hooks`` for an ``httpx.Client``: record each answer once it arrives."""
        return {"request": [self._started], "response": [self._record]}

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        """Label the exchanges sent inside the block (the HAR entries' comment)."""
        previous, self.label = self.label, label
        try:
            yield
        finally:
            self.label = previous

    def add_secret(self, value: str | None) -> None:
        """Scrub ``value`` (and its URL-encoded forms) wherever it occurs in the file."""
        if value and len(value) >= MIN_SECRET:
            self._secrets.update({value, quote(value, safe=""), unquote(value)})

    def add_secret_url(self, url: str) -> None:
        """Scrub the credentials in a pre-signed URL's query wherever they occur."""
        for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            if is_secret_query(key):
                self.add_secret(value)

    @property
    def last(self) -> Exchange | None:
        return self.exchanges[-1] if self.exchanges else None

    def _started(self, request: httpx.Request) -> None:
        self._starts[id(request)] = (datetime.now(UTC), time.perf_counter())

    def _record(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        self._learn_secrets(request)
        started, counter = self._starts.pop(id(request), (datetime.now(UTC), time.perf_counter()))
        seconds = time.perf_counter() - counter
        self._entries.append(_Entry(request, response, started, seconds, self.label))
        self.exchanges.append(Exchange.from_response(response, self.label))

    def _learn_secrets(self, request: httpx.Request) -> None:
        for name, value in request.headers.items():
            if name.lower() in SECRET_HEADERS:
                self.add_secret(value)
            elif name.lower() == "authorization":
                for match in AUTH_PARTS.finditer(value):
                    self.add_secret(match["value"])
        self.add_secret_url(str(request.url))

    # --- writing ---------------------------------------------------------------------------

    def har(self, creator_version: str = "") -> dict[str, Any]:
        """The HAR 1.2 document, scrubbed; raises :class:`SecretLeak` if a secret survives."""
        document: dict[str, Any] = {
            "log": {
                "version": HAR_VERSION,
                "creator": {"name": "short-jobs conformance", "version": creator_version},
                "pages": [],
                "entries": [_har_entry(entry) for entry in self._entries],
            }
        }
        secrets = self._secrets | known()
        scrubbed: dict[str, Any] = scrub_data(document, secrets)
        if any(secret in value for value in _strings(scrubbed) for secret in secrets):
            raise SecretLeak("a secret value would survive in the HAR file; nothing was written")
        return scrubbed

    def har_bytes(self, creator_version: str = "") -> bytes:
        """:meth:`har` as the file's bytes (UTF-8 JSON)."""
        document = self.har(creator_version)
        return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")

    def write(self, path: Path, creator_version: str = "") -> None:
        """Write the HAR file to ``path``."""
        path.write_bytes(self.har_bytes(creator_version))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _headers(headers: httpx.Headers) -> list[dict[str, str]]:
    return [
        {"name": name, "value": scrub_header(name, value)} for name, value in headers.multi_items()
    ]


def _query(url: httpx.URL) -> list[dict[str, str]]:
    pairs = parse_qsl(url.query.decode("ascii", "replace"), keep_blank_values=True)
    return [{"name": k, "value": REDACTED if is_secret_query(k) else v} for k, v in pairs]


def _is_text(media_type: str) -> bool:
    return media_type.startswith(_TEXT_TYPES) or media_type.endswith(("+json", "+xml"))


def _request_body(request: httpx.Request) -> dict[str, Any] | None:
    try:
        body = request.content
    except httpx.RequestNotRead:
        body = b""
    if not body:
        return None
    media_type = request.headers.get("content-type", "")
    if _is_text(media_type.lower()):
        text = scrub(body.decode("utf-8", "replace"))
        return {"mimeType": media_type, "text": text}
    return {
        "mimeType": media_type,
        "text": "",
        "comment": f"binary body of {len(body)} bytes, not recorded",
    }


def _response_content(response: httpx.Response) -> dict[str, Any]:
    body = response.content
    media_type = response.headers.get("content-type", "")
    content: dict[str, Any] = {"size": len(body), "mimeType": media_type}
    if not body:
        return content
    try:
        content["text"] = scrub(body.decode("utf-8"))
    except UnicodeDecodeError:
        content["text"] = base64.b64encode(body).decode("ascii")
        content["encoding"] = "base64"
    return content


def _http_version(response: httpx.Response) -> str:
    return str(response.extensions.get("http_version", b"HTTP/1.1").decode("ascii"))


def _har_entry(entry: _Entry) -> dict[str, Any]:
    request, response = entry.request, entry.response
    milliseconds = round(entry.seconds * 1000, 3)
    har_request: dict[str, Any] = {
        "method": request.method,
        "url": scrub(str(request.url)),
        "httpVersion": _http_version(response),
        "cookies": [],
        "headers": _headers(request.headers),
        "queryString": _query(request.url),
        "headersSize": -1,
        "bodySize": len(request.content) if _has_content(request) else 0,
    }
    post_data = _request_body(request)
    if post_data is not None:
        har_request["postData"] = post_data
    return {
        "startedDateTime": entry.started.isoformat(timespec="milliseconds"),
        "time": milliseconds,
        "request": har_request,
        "response": {
            "status": response.status_code,
            "statusText": response.reason_phrase,
            "httpVersion": _http_version(response),
            "cookies": [],
            "headers": _headers(response.headers),
            "content": _response_content(response),
            "redirectURL": scrub(response.headers.get("location", "")),
            "headersSize": -1,
            "bodySize": len(response.content),
        },
        "cache": {},
        "timings": {"send": 0, "wait": milliseconds, "receive": 0},
        "comment": entry.label,
    }


def _has_content(request: httpx.Request) -> bool:
    try:
        request.content  # noqa: B018 - raises when the body was streamed
    except httpx.RequestNotRead:
        return False
    return True
