"""What a credential, a project id and a job id may hold: one rule each, for the client, its
command line and the mock (which refuses, at start, a setting no client could send).

No I/O and nothing heavier than :mod:`re` is imported here, so the mock's settings can use it.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_ID",
    "VISIBLE",
    "job_id_problem",
    "project_id_problem",
]

VISIBLE = re.compile(r"[!-~]+")
"""Credentials and project ids are visible ASCII; anything else is a copy-paste accident (a
header cannot hold it, or the signature over it never matches)."""

MAX_ID = 64
"""openapi.yaml's ``maxLength`` for both ``project_id`` and ``job_id`` (``minLength`` is 1)."""

_PROJECT_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ID}}}")
_DOT_SEGMENTS = (".", "..")


def project_id_problem(value: str) -> str | None:
    """What keeps ``value`` from being a project id, or ``None``.

    openapi.yaml gives ``project_id`` a length (1 to 64) and no pattern; the API reference
    (shared/reference/short-jobs-api.md) says only that it is the Huawei Cloud project the
    credentials are for, put in the path and in the signed ``X-Project-Id`` header. Huawei Cloud
    issues project ids as 32 lower-case hex digits. The rule decided here: 1 to 64 ASCII letters,
    digits, ``-`` and ``_``. It admits every id Huawei issues (and the mock's and the tests'
    ``project-example``), and refuses what would be sent as something else: a ``/`` or ``..``
    that moves the request to another path (an ``APIGW.0101`` 404 instead of the user's
    mistake named), ``%``, ``?``, ``#``, spaces.
    """
    if _PROJECT_ID.fullmatch(value):
        return None
    if len(value) > MAX_ID:
        return f"is {len(value)} characters long; a project id has at most {MAX_ID}"
    return (
        "is not a project id: 1 to 64 ASCII letters, digits, '-' and '_' (Huawei Cloud's are 32 "
        "hex digits)"
    )


def job_id_problem(value: str) -> str | None:
    """What keeps ``value`` from being sent as a job id, or ``None``.

    openapi.yaml gives ``job_id`` a length (1 to 64) and no pattern, and calls it opaque (the
    service's are dashed UUIDs), so any other character is sent: the generated client
    percent-encodes each path parameter with ``quote(..., safe="")`` (``/`` is ``%2F``), and the
    path keeps its shape. Only what percent-encoding cannot keep in its place is refused: the
    empty id (the request would go to the collection) and the dot segments ``.`` and ``..``,
    which httpx, and any URL normaliser after it, removes from the path (RFC 3986 section 5.2.4;
    ``%2E`` is ``.`` to them, section 6.2.2.2), sending the request to another resource.
    """
    if not value:
        return "is empty"
    if value in _DOT_SEGMENTS:
        return f"is {value!r}, which a URL cannot carry as a path segment (it means a directory)"
    if len(value) > MAX_ID:
        return f"is {len(value)} characters long; a job id has at most {MAX_ID}"
    return None
