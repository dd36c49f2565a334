"""The one list of statements about the short-jobs API that a live endpoint must keep.

Both users of the list read it from here: ``short-jobs conformance`` (against any endpoint) and the
contract suite (``tests/client/conformance/test_conformance.py``, against the mock). A statement
says what one documented behaviour looks like: which answer (status, error code) and, through
``then``, what the body must say beyond the schema. Every answer to an API operation is also checked
against ``openapi.yaml`` (status declared, required headers, media type, body schema; see
:mod:`short_jobs.conformance.spec`) and the reference's rules for errors (:mod:`.checks`), so a
statement only adds what the spec cannot say ("not found is 400 MSS.00000003").

Sources: ``openapi.yaml`` and the project's reference, ``short-jobs-api.md`` (section numbers
below: 1 operations, 2 errors, 3 AK/SK signing, 4 the upload URL, 5 decisions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from short_jobs.conformance.exchange import Exchange, Finding

__all__ = [
    "CODE_FAMILIES",
    "FINAL_STATES",
    "GATEWAY_CODE",
    "STATEMENTS",
    "UPLOAD",
    "Facts",
    "Need",
    "Statement",
    "by_id",
]

UPLOAD = "upload"
"""The pseudo-operation of the pre-signed upload URL (OBS; outside openapi.yaml)."""

GATEWAY_CODE = re.compile(r"APIGW?\.[0-9]+")
"""API gateway codes; both prefixes are seen in the wild (reference section 2)."""

CODE_FAMILIES: dict[int, re.Pattern[str]] = {
    400: re.compile(r"MSS\.[0-9]+|APIGW?\.0201"),
    401: re.compile(r"APIGW?\.0301|MSS\.00000001"),
    403: re.compile(r"APIGW?\.0302"),
    404: re.compile(r"APIGW?\.0101"),
    413: re.compile(r"APIGW?\.0201"),
    429: re.compile(r"APIGW?\.0308"),
    500: re.compile(r"MSS\.00000004"),
}
"""Which error codes each status may carry (reference section 2; openapi.yaml's responses)."""

FINAL_STATES = frozenset({"SUCCEED", "FAILED"})
ASSESS_PATH_STATES = frozenset({"WAITING", "PROCESSING", *FINAL_STATES})
"""The states a committed VOICE_ASSESS job passes through (openapi.yaml, JobState)."""
ASSESSED_PROPERTIES = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Need(StrEnum):
    """What a statement needs before it can be tried; without it the statement is not tried."""

    AK_SK = "AK/SK credentials (this run authenticates with a token)"
    JOB = "a created job (create-cn answered none)"
    UPLOADED = "the job's zip uploaded (upload-zip did not hold)"
    COMMITTED = "the job committed (commit did not hold)"
    FINAL = "the job in a final state (show-final did not reach one)"


@dataclass
class Facts:
    """What the run has established so far, for the statements that depend on it."""

    job_id: str | None = None
    upload_url: str | None = None
    created: Exchange | None = None
    uploaded: bool = False
    committed: bool = False
    final: Exchange | None = None


Then = Callable[[Sequence[Exchange], Facts], list[Finding]]
"""Further checks on a statement's answers (all of them, oldest first) given the facts."""


@dataclass(frozen=True)
class Statement:
    """One documented behaviour: how to recognise that the endpoint keeps it."""

    id: str
    """Stable name, used in reports, JUnit test names and the HAR file's comments."""
    says: str
    source: str
    operation: str
    """The operationId in openapi.yaml whose responses the answer must match, or ``UPLOAD``."""
    status: tuple[int, ...]
    error_code: re.Pattern[str] | None = None
    """The error code the answer must carry (JSON ``error_code``, or OBS XML ``Code``)."""
    needs: tuple[Need, ...] = ()
    creates_jobs: int = 0
    """Jobs this statement creates, counted against ``--max-jobs``."""
    then: Then | None = field(default=None, compare=False)

    @property
    def expected(self) -> str:
        """``400 MSS.00000003``: the answer the statement expects, in one line."""
        status = " or ".join(str(s) for s in self.status)
        return f"{status} {self.error_code.pattern}" if self.error_code else status


# --- further checks (the prose of the spec and the reference) --------------------------------


def _same_job(exchanges: Sequence[Exchange], facts: Facts) -> list[Finding]:
    body = exchanges[-1].json_object()
    found: list[Finding] = []
    if body.get("job_id") != facts.job_id:
        asked = f"the job asked for ({facts.job_id})"
        found.append(Finding("job-id", asked, repr(body.get("job_id"))))
    if "job_type" in body and body["job_type"] != "VOICE_ASSESS":
        found.append(Finding("job-type", "VOICE_ASSESS", repr(body["job_type"])))
    return found


def _created_state(exchanges: Sequence[Exchange], facts: Facts) -> list[Finding]:
    found = _same_job(exchanges, facts)
    state = exchanges[-1].json_object().get("state")
    if state != "CREATING":
        found.append(Finding("state", "CREATING (uploaded, not committed)", repr(state)))
    return found


def _uuid_job_id(exchanges: Sequence[Exchange], facts: Facts) -> list[Finding]:
    job_id = exchanges[-1].json_object().get("job_id")
    if isinstance(job_id, str) and _UUID.fullmatch(job_id):
        return []
    return [Finding("job-id-format", "a lower-case dashed UUID", repr(job_id))]


def _empty_or_object(exchanges: Sequence[Exchange], facts: Facts) -> list[Finding]:
    answer = exchanges[-1]
    if not answer.body.strip() or isinstance(answer.parsed, dict):
        return []
    return [Finding("commit-body", "an empty body or a JSON object", repr(answer.body[:60]))]


def _reached_final(exchanges: Sequence[Exchange], facts: Facts) -> list[Finding]:
    found = _same_job(exchanges, facts)
    states = [e.json_object().get("state") for e in exchanges]
    strays = sorted({str(s) for s in states if s not in ASSESS_PATH_STATES})
    if strays:
        found.append(
            Finding("state-path", "only WAITING, PROCESSING, SUCCEED, FAILED", ", ".join(strays))
        )
    if states[-1] not in FINAL_STATES:
        found.append(Finding("final-state", "SUCCEED or FAILED", repr(states[-1])))
    return found


def _final_detail(exchanges: Sequence[Exchange], facts: Facts) -> list[Finding]:
    body = exchanges[-1].json_object()
    if body.get("state") == "FAILED":
        return [
            Finding(name, "a non-empty string (FAILED job)", repr(body.get(name)))
            for name in ("job_failed_code", "job_failed_reason")
            if not (isinstance(body.get(name), str) and body[name])
        ]
    result = body.get("assess_result")
    if not isinstance(result, dict):
        return [Finding("assess_result", "an AssessResult (SUCCEED job)", repr(result))]
    return [
        Finding(f"assess_result.{name}", "an AssessProperty with actual and status", "missing")
        for name in ASSESSED_PROPERTIES
        if not (isinstance(result.get(name), dict) and {"actual", "status"} <= result[name].keys())
    ]


# --- the list ------------------------------------------------------------------------------

_NOT_FOUND = re.compile(r"MSS\.00000003")
_API_MISSING = re.compile(r"APIGW?\.0101")
_AUTH_FAILED = re.compile(r"APIGW?\.0301")
_SIGNATURE = re.compile(r"SignatureDoesNotMatch")

STATEMENTS: tuple[Statement, ...] = (
    Statement(
        "unknown-job",
        "showing a job that does not exist answers 400 MSS.00000003",
        "reference 2 and 5 (MetaStudio reports not found as 400); openapi.yaml BadRequest",
        "show_short_job",
        (400,),
        _NOT_FOUND,
    ),
    Statement(
        "route-get-on-create",
        "a GET on the create path (no such API) answers 404 APIGW.0101 with request_id",
        "reference 5 (routing is the gateway's); openapi.yaml NotFound",
        "create_short_job",
        (404,),
        _API_MISSING,
    ),
    Statement(
        "route-trailing-slash",
        "a job path with a trailing slash answers 404 APIGW.0101, no redirect",
        "reference 5 (routing is the gateway's); openapi.yaml NotFound",
        "show_short_job",
        (404,),
        _API_MISSING,
    ),
    Statement(
        "wrong-token",
        "a request with an invalid X-Auth-Token answers 401 APIGW.0301",
        "reference 2 (every AK/SK or token failure); openapi.yaml Unauthorized",
        "show_short_job",
        (401,),
        _AUTH_FAILED,
    ),
    Statement(
        "wrong-signature",
        "a request whose AK/SK signature is wrong answers 401 APIGW.0301",
        "reference 2 and 3; openapi.yaml Unauthorized",
        "show_short_job",
        (401,),
        _AUTH_FAILED,
        needs=(Need.AK_SK,),
    ),
    Statement(
        "skewed-date",
        "a request signed with X-Sdk-Date 20 minutes off answers 401 APIGW.0301",
        "reference 3 (X-Sdk-Date within 15 minutes of server time); openapi.yaml Unauthorized",
        "show_short_job",
        (401,),
        _AUTH_FAILED,
        needs=(Need.AK_SK,),
    ),
    Statement(
        "create-cn",
        "creating a VOICE_ASSESS job in CN answers 200 with job_id and data_uploading_url",
        "reference 1; openapi.yaml create_short_job",
        "create_short_job",
        (200,),
        creates_jobs=1,
    ),
    Statement(
        "job-id-format",
        "job ids are lower-case dashed UUIDs",
        "reference 5 (as in the API reference's example)",
        "create_short_job",
        (200,),
        needs=(Need.JOB,),
        then=_uuid_job_id,
    ),
    Statement(
        "commit-before-upload",
        "committing a job before its zip is uploaded answers 400 MSS.00000003",
        "reference 5; openapi.yaml commit_short_job",
        "commit_short_job",
        (400,),
        _NOT_FOUND,
        needs=(Need.JOB,),
    ),
    Statement(
        "upload-wrong-type",
        "an upload with a Content-Type other than application/zip answers 403 "
        "SignatureDoesNotMatch",
        "reference 4 (Content-Type is inside the URL's signature)",
        UPLOAD,
        (403,),
        _SIGNATURE,
        needs=(Need.JOB,),
    ),
    Statement(
        "upload-wrong-method",
        "a GET of the upload URL answers 403 SignatureDoesNotMatch",
        "reference 5 (the upload URL signs the method, as OBS does)",
        UPLOAD,
        (403,),
        _SIGNATURE,
        needs=(Need.JOB,),
    ),
    Statement(
        "upload-zip",
        "a PUT of a zip of WAV files with Content-Type application/zip answers 200",
        "reference 1 and 4; openapi.yaml CreateShortJobResponse.data_uploading_url",
        UPLOAD,
        (200,),
        needs=(Need.JOB,),
    ),
    Statement(
        "show-created",
        "an uploaded, uncommitted job shows 200 in state CREATING",
        "openapi.yaml JobState and show_short_job; reference 5 (lifecycle)",
        "show_short_job",
        (200,),
        needs=(Need.JOB,),
        then=_created_state,
    ),
    Statement(
        "commit",
        "committing the uploaded job answers 200 with an empty body (or {})",
        "reference 1; openapi.yaml commit_short_job",
        "commit_short_job",
        (200,),
        needs=(Need.UPLOADED,),
        then=_empty_or_object,
    ),
    Statement(
        "second-commit",
        "committing the job a second time answers 400 MSS.00000003",
        "reference 5; openapi.yaml commit_short_job",
        "commit_short_job",
        (400,),
        _NOT_FOUND,
        needs=(Need.COMMITTED,),
    ),
    Statement(
        "show-final",
        "the committed job, shown until it ends, goes WAITING/PROCESSING to SUCCEED or FAILED",
        "openapi.yaml JobState and show_short_job; reference 5 (lifecycle)",
        "show_short_job",
        (200,),
        needs=(Need.COMMITTED,),
        then=_reached_final,
    ),
    Statement(
        "show-result",
        "a SUCCEED job carries assess_result with its six properties; a FAILED one "
        "job_failed_code and job_failed_reason",
        "openapi.yaml show_short_job and AssessResult; reference 1",
        "show_short_job",
        (200,),
        needs=(Need.FINAL,),
        then=_final_detail,
    ),
    Statement(
        "create-en",
        "creating a VOICE_ASSESS job in EN answers 200 with job_id and data_uploading_url",
        "reference 1; openapi.yaml create_short_job",
        "create_short_job",
        (200,),
        creates_jobs=1,
    ),
)
"""Every statement, in the order reports list them."""


def by_id(statement_id: str) -> Statement:
    """The statement named ``statement_id``; ``KeyError`` if there is none."""
    for statement in STATEMENTS:
        if statement.id == statement_id:
            return statement
    raise KeyError(statement_id)
