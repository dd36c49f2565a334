"""IAM's error table and Keystone's error shape: what the IAM endpoints answer on failure."""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.core.asgi import Answer
from mock_server.core.errors import REQUEST_ID_HEADER

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
    FORBIDDEN = IamCode(403, "Forbidden", "You are not authorized to perform the requested action.")
    METHOD_NOT_ALLOWED = IamCode(405, "Method Not Allowed", "The method is not allowed.")
    CONFLICT = IamCode(409, "Conflict", "The project name already exists.")
    TOO_LARGE = IamCode(413, "Request Entity Too Large", "The request body is too large.")
    INTERNAL = IamCode(500, "Internal Server Error", "An unexpected error occurred.")

    @classmethod
    def by_status(cls, status: int) -> IamCode:
        """The row for a framework answer's status (validation, routing), else INTERNAL."""
        for row in (
            cls.BAD_REQUEST,
            cls.UNAUTHORIZED,
            cls.FORBIDDEN,
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


def render_iam(error: IamError, request_id: str) -> Answer:
    body = {
        "error": {"code": error.code.status, "message": error.message, "title": error.code.title}
    }
    headers = {IAM_TRACE_HEADER: request_id, REQUEST_ID_HEADER: request_id}
    return Answer.json(body, error.code.status, headers)
