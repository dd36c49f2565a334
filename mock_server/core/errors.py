"""The one table of error codes the mock answers with, and how an error becomes a response.

Every failure the emulated API can produce is an `ApiError` naming an entry of `Codes`; `render`
turns it into the service's own shape, `{"error_code", "error_msg"}`, plus `request_id` for
errors the API gateway raises (the real gateway adds it; the MetaStudio service does not).
Nothing else in the server builds an error body, so the shape cannot drift.

The upload endpoint imitates OBS instead, whose errors are XML: see `ObsCodes` and `render_obs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from connexion.lifecycle import ConnexionResponse
from starlette.responses import JSONResponse, Response

from mock_server.core.text import printable

REQUEST_ID_HEADER = "X-Request-Id"


@dataclass(frozen=True)
class Code:
    """One row of the table: the HTTP status, the service's code, a default message."""

    status: int
    code: str
    message: str
    gateway: bool = False


class Codes:
    """MetaStudio (MSS.*) and API gateway (APIGW.*) codes, as the reference lists them."""

    INVALID_BODY = Code(400, "MSS.00000002", "Invalid request body")
    INVALID_PARAMETER = Code(400, "MSS.00000003", "Invalid parameter")
    BODY_NOT_JSON = Code(400, "MSS.10000002", "The request body is not JSON")
    PARAMETER_VALIDATION = Code(400, "MSS.10000003", "Parameter validation failed")
    INTERNAL = Code(500, "MSS.00000004", "Internal error")
    API_NOT_FOUND = Code(
        404,
        "APIGW.0101",
        "The API does not exist or has not been published in the environment",
        gateway=True,
    )
    ENTITY_TOO_LARGE = Code(413, "APIGW.0201", "Request entity too large", gateway=True)
    UNAUTHORIZED = Code(401, "APIGW.0301", "Incorrect IAM authentication information", gateway=True)
    FORBIDDEN = Code(
        403, "APIGW.0302", "The IAM user is not authorized to access this API", gateway=True
    )
    THROTTLED = Code(429, "APIGW.0308", "The throttling threshold has been reached", gateway=True)

    @classmethod
    def all(cls) -> list[Code]:
        return [value for value in vars(cls).values() if isinstance(value, Code)]

    @classmethod
    def by_code(cls, status: int, code: str) -> Code | None:
        """The row for (status, code), so injected faults reuse the table's messages."""
        for row in cls.all():
            if row.status == status and row.code == code:
                return row
        return None


def custom(status: int, code: str, message: str) -> Code:
    """A row outside the table, for a fault a test injects with a code of its own choosing."""
    return Code(status, code, message, gateway=code.startswith(("APIGW.", "APIG.")))


class ApiError(Exception):
    """An error answer of the emulated API; `detail` is appended to the row's message."""

    def __init__(
        self, code: Code, detail: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        self.code = code
        self.message = f"{code.message}: {detail}" if detail else code.message
        self.headers = headers or {}
        super().__init__(f"{code.code} {self.message}")


def render(error: ApiError, request_id: str) -> Response:
    """The error as the service answers it. Non-printable characters in the message (which may
    echo client input) are escaped, so it is always valid UTF-8 JSON on one line."""
    body: dict[str, str] = {"error_code": error.code.code, "error_msg": printable(error.message)}
    if error.code.gateway:
        body["request_id"] = request_id
    headers = {**error.headers, REQUEST_ID_HEADER: request_id}
    return JSONResponse(body, status_code=error.code.status, headers=headers)


@dataclass(frozen=True)
class ObsCode:
    """One row of the OBS table: the HTTP status and OBS's error code."""

    status: int
    code: str


class ObsCodes:
    """The OBS error codes the pre-signed upload endpoint answers with (OBS API reference,
    "Error Codes"): the one table of them; `presign.py` and `uploads.py` name these rows."""

    SIGNATURE_DOES_NOT_MATCH = ObsCode(403, "SignatureDoesNotMatch")
    ACCESS_DENIED = ObsCode(403, "AccessDenied")
    ENTITY_TOO_LARGE = ObsCode(400, "EntityTooLarge")
    INCOMPLETE_BODY = ObsCode(400, "IncompleteBody")
    NO_SUCH_KEY = ObsCode(404, "NoSuchKey")
    INTERNAL = ObsCode(500, "InternalError")

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


class ObsError(Exception):
    """An error answer of the upload endpoint: `code` (a row of `ObsCodes`), a `message`, and
    the `resource` (the request's path) OBS names in its XML."""

    def __init__(self, code: ObsCode, message: str, resource: str = "") -> None:
        self.code = code
        self.message = message
        self.resource = resource
        super().__init__(f"{code.status} {code.code}: {message}")


def render_obs(error: ObsError, request_id: str, host_id: str = "short-jobs-mock") -> Response:
    resource = (
        f"<Resource>{xml_escape(printable(error.resource))}</Resource>" if error.resource else ""
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{error.code.code}</Code><Message>{xml_escape(printable(error.message))}</Message>"
        f"{resource}<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    )
    headers = {REQUEST_ID_HEADER: request_id, "x-obs-request-id": request_id}
    return Response(
        xml, status_code=error.code.status, media_type="application/xml", headers=headers
    )


# -- IAM (mock_server/iam): Keystone's error shape ------------------------------------------------

IAM_TRACE_HEADER = "X-IAM-Trace-Id"


@dataclass(frozen=True)
class IamCode:
    """One IAM answer: the HTTP status, Keystone's title, a default message."""

    status: int
    title: str
    message: str


class IamCodes:
    """What the IAM endpoints answer on failure. IAM's Keystone APIs (tokens, projects) and its
    temporary-credential API answer `{"error": {"code": <status>, "message", "title"}}` (the IAM
    API reference's examples); the official SDK reads `code`/`message` from the nested object."""

    BAD_REQUEST = IamCode(400, "Bad Request", "The request body or a parameter is invalid.")
    UNAUTHORIZED = IamCode(
        401, "Unauthorized", "The request you have made requires authentication."
    )
    WRONG_PASSWORD = IamCode(401, "Unauthorized", "The username or password is wrong.")
    NOT_FOUND = IamCode(404, "Not Found", "Could not find the requested resource.")
    METHOD_NOT_ALLOWED = IamCode(405, "Method Not Allowed", "The method is not allowed.")
    TOO_LARGE = IamCode(413, "Request Entity Too Large", "The request body is too large.")
    INTERNAL = IamCode(500, "Internal Server Error", "An unexpected error occurred.")

    @classmethod
    def by_status(cls, status: int) -> IamCode:
        """The row for a framework answer's status (validation, routing), else INTERNAL."""
        for row in (
            cls.BAD_REQUEST,
            cls.UNAUTHORIZED,
            cls.NOT_FOUND,
            cls.METHOD_NOT_ALLOWED,
            cls.TOO_LARGE,
        ):
            if row.status == status:
                return row
        return cls.BAD_REQUEST if 400 <= status < 500 else cls.INTERNAL


class IamError(Exception):
    """An error answer of the IAM endpoints; `detail` is appended to the row's message."""

    def __init__(self, code: IamCode, detail: str | None = None) -> None:
        self.code = code
        self.message = f"{code.message} {detail}" if detail else code.message
        super().__init__(f"{code.status} {self.message}")


def render_iam(error: IamError, request_id: str) -> Response:
    body = {
        "error": {"code": error.code.status, "message": error.message, "title": error.code.title}
    }
    headers = {IAM_TRACE_HEADER: request_id, REQUEST_ID_HEADER: request_id}
    return JSONResponse(body, status_code=error.code.status, headers=headers)


def connexion_response(
    response: Response, extra: dict[str, str] | None = None
) -> ConnexionResponse:
    """`response` (rendered here) as connexion's error handlers must answer: its own type, the
    body and headers unchanged (connexion sets Content-Length itself), plus `extra` headers."""
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
    headers.update(extra or {})
    return ConnexionResponse(
        status_code=response.status_code,
        mimetype="application/json",
        body=response.body,
        headers=headers,
    )
