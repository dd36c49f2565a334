"""The one table of error codes the mock answers with, and how an error becomes a response.

Every failure the emulated API can produce is an `ApiError` naming an entry of `Codes`; `render`
turns it into the service's own shape, `{"error_code", "error_msg"}`, plus `request_id` for
errors the API gateway raises (the real gateway adds it; the MetaStudio service does not).
Nothing else in the server builds an error body, so the shape cannot drift.

The machinery (`Code`, `ApiError`, `render`) and the MetaStudio API's table (`Codes`: the API
gateway's APIGW.* and the service's MSS.* codes, one table as the reference lists them) are ground
that every layer answers with: the body reader and the validators raise them too. OBS' table is
`mock_server.obs.errors`, IAM's `mock_server.iam.errors`.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.core.asgi import Answer
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


def render(error: ApiError, request_id: str) -> Answer:
    """The error as the service answers it. Non-printable characters in the message (which may
    echo client input) are escaped, so it is always valid UTF-8 JSON on one line."""
    body: dict[str, str] = {"error_code": error.code.code, "error_msg": printable(error.message)}
    if error.code.gateway:
        body["request_id"] = request_id
    headers = {**error.headers, REQUEST_ID_HEADER: request_id}
    return Answer.json(body, error.code.status, headers)
