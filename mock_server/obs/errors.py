"""OBS' error table and its XML shape: what the pre-signed upload endpoint answers on failure
(OBS API reference, "Error Codes" and "Error Responses")."""

from __future__ import annotations

import errno
import sqlite3
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from mock_server.core.asgi import Answer
from mock_server.core.errors import REQUEST_ID_HEADER
from mock_server.core.text import printable


@dataclass(frozen=True)
class ObsCode:
    """One row of the OBS table: the HTTP status and OBS's error code."""

    status: int
    code: str


class ObsCodes:
    """The OBS error codes the pre-signed upload endpoint answers with (OBS API reference,
    "Error Codes"): the one table of them; `presign.py` and `endpoint.py` name these rows."""

    SIGNATURE_DOES_NOT_MATCH = ObsCode(403, "SignatureDoesNotMatch")
    ACCESS_DENIED = ObsCode(403, "AccessDenied")
    ENTITY_TOO_LARGE = ObsCode(400, "EntityTooLarge")
    INCOMPLETE_BODY = ObsCode(400, "IncompleteBody")
    NO_SUCH_KEY = ObsCode(404, "NoSuchKey")
    NO_SUCH_UPLOAD = ObsCode(404, "NoSuchUpload")
    NOT_IMPLEMENTED = ObsCode(501, "NotImplemented")
    INTERNAL = ObsCode(500, "InternalError")
    SERVICE_UNAVAILABLE = ObsCode(503, "ServiceUnavailable")

    @classmethod
    def all(cls) -> list[ObsCode]:
        return [value for value in vars(cls).values() if isinstance(value, ObsCode)]

    @classmethod
    def by_code(cls, status: int, code: str) -> ObsCode:
        """The row for (status, code); a row outside the table for a code a test injects."""
        for row in cls.all():
            if (row.status, row.code) == (status, code):
                return row
        return ObsCode(status, code)


# What the mock answers as OBS' host id: the XML's HostId and the `x-obs-id-2` header.
HOST_ID = "short-jobs-mock"


def no_such_key(resource: str = "") -> ObsError:
    """No object (here: no job) under the key."""
    return ObsError(ObsCodes.NO_SUCH_KEY, "The specified key does not exist.", resource)


def internal_error(exc: BaseException, resource: str = "") -> ObsError:
    """OBS' answer for a failure of the mock itself on the upload URL, wherever it happens (the
    front door's fault check, the endpoint, the store): 503 ServiceUnavailable while the
    database is busy (retry later), else 500 InternalError (OBS API reference, "Error Codes");
    the message names the cause (never a path of the machine)."""
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return ObsError(ObsCodes.SERVICE_UNAVAILABLE, "Please reduce your request rate.", resource)
    if isinstance(exc, OSError) and exc.errno in _FULL:
        cause = f"the mock's data directory is full ({errno.errorcode[exc.errno]})"
    else:
        cause = f"the mock failed ({type(exc).__name__})"
    return ObsError(
        ObsCodes.INTERNAL, f"We encountered an internal error: {cause}. Please try again.", resource
    )


# The errors of a write that found no room: no space, over quota, over the file size limit.
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


class ObsError(Exception):
    """An error answer of the upload endpoint: `code` (a row of `ObsCodes`), a `message`, and
    the `resource` (the request's path) OBS names in its XML."""

    def __init__(self, code: ObsCode, message: str, resource: str = "") -> None:
        self.code = code
        self.message = message
        self.resource = resource
        super().__init__(f"{code.status} {code.code}: {message}")


def render_obs(error: ObsError, request_id: str, host_id: str = HOST_ID) -> Answer:
    """The XML error answer OBS gives: Code, Message, Resource, RequestId and HostId, with the
    `x-obs-request-id` and `x-obs-id-2` headers."""
    resource = (
        f"<Resource>{xml_escape(printable(error.resource))}</Resource>" if error.resource else ""
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{error.code.code}</Code><Message>{xml_escape(printable(error.message))}</Message>"
        f"{resource}<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    headers = {REQUEST_ID_HEADER: request_id, "x-obs-request-id": request_id, "x-obs-id-2": host_id}
    return Answer(error.code.status, xml.encode("utf-8"), "application/xml", headers)
