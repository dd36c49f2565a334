"""The control plane (`/_mock/...`, described by `control.yaml`): switches for tests.

Its state (journal, faults, default progress: `store.py`) lives in the mock's SQLite database with
the jobs, so every
worker process sees the same switches. It is served only with `--control`; without it the paths
do not exist (404 APIGW.0101), and nothing here costs the emulated API anything.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from itertools import islice
from typing import Any

import jsonschema

from mock_server.control.store import ControlStore
from mock_server.core.asgi import Answer
from mock_server.core.body import parse_json
from mock_server.core.errors import ApiError, Codes
from mock_server.core.spec import spec_document
from mock_server.service import canned, lifecycle, steering
from mock_server.service.handlers import Service, new_job_id
from mock_server.service.store import Job, Outcome


class Control:
    """Handlers of `control.yaml`, found by operationId like the service's."""

    def __init__(self, service: Service, control: ControlStore) -> None:
        self.service = service
        self.store = service.store
        self.control = control

    async def reset(self) -> dict[str, int]:
        """The one reset: every store's tables (jobs, journal, faults, settings, IAM's issued
        tokens and credentials) and the uploaded objects, in one transaction."""
        removed = self.store.database.reset()
        return {"jobs_removed": removed["jobs"]}

    async def list_requests(
        self,
        operation: str | None = None,
        method: str | None = None,
        status: int | None = None,
        path_contains: str | None = None,
        job_id: str | None = None,
        since_id: int = 0,
        limit: int = 1000,
    ) -> dict[str, Any]:
        """One page of the journal: the first `limit` matching entries after `since_id`.

        Never silently short: `more` says whether matching entries follow, and `next_since_id`
        (the last entry's id, null when none follow) asks for the next page with the same
        filters. Nothing is ever dropped but by `DELETE /requests` or a reset.
        """
        wanted = {"operation": operation, "status": status, "job_id": job_id}
        matching = (
            entry
            for entry in self.control.journal_entries(since_id)
            if all(value is None or entry.get(key) == value for key, value in wanted.items())
            and (method is None or entry["method"] == method.upper())
            and (path_contains is None or path_contains in entry["path"])
        )
        page = list(islice(matching, limit + 1))
        more = len(page) > limit
        page = page[:limit]
        return {
            "requests": page,
            "more": more,
            "next_since_id": page[-1]["id"] if more else None,
        }

    async def clear_requests(self) -> Answer:
        self.control.journal_clear()
        return Answer(204)

    async def list_faults(self) -> dict[str, list[dict[str, Any]]]:
        return {"faults": self.control.faults()}

    async def add_fault(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        spec = {"times": 1, **body}
        if "status" in spec and "error_code" not in spec and "upload" not in spec:
            raise ApiError(Codes.INVALID_BODY, "a fault with a status needs an error_code")
        if "upload" in spec and spec.get("operation", "upload") != "upload":
            raise ApiError(Codes.INVALID_BODY, "an upload fault applies to operation 'upload'")
        if not ({"status", "latency_ms", "upload"} & set(spec)):
            raise ApiError(Codes.INVALID_BODY, "a fault needs a status, latency_ms or upload")
        return self.control.add_fault(spec), 201

    async def clear_faults(self) -> Answer:
        self.control.clear_faults()
        return Answer(204)

    async def get_clock(self) -> dict[str, float]:
        return self._clock()

    async def advance_clock(self, body: dict[str, float]) -> dict[str, float]:
        """Move the mock's one clock on (every process's, every rule that reads time)."""
        self.service.clock.advance(body["seconds"])
        return self._clock()

    def _clock(self) -> dict[str, float]:
        clock = self.service.clock
        return {"offset_seconds": clock.offset(), "now": clock.now()}

    async def get_progress(self) -> dict[str, str]:
        return {"mode": self.default_progress()}

    async def set_progress(self, body: dict[str, str]) -> dict[str, str]:
        self.control.put_setting(lifecycle.PROGRESS_SETTING, body["mode"])
        return {"mode": body["mode"]}

    async def make_job(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """A committed job of the mock's project in `body["state"]` with its outcome, in one
        call and without audio (`service.canned`); answers it as show_short_job would, 201."""
        if "assess_result" in body:
            _check_assess_result(body["assess_result"])
        job, outcome = canned.plan(
            new_job_id(), self.service.settings.project_id, body, self.service.clock.now()
        )
        with self.store.database.transaction():
            self.store.insert(replace(job, state=lifecycle.CREATING, committed_at=None))
            self.store.transition(replace(job, state=lifecycle.CREATING), job)
            self.store.save_outcome(job.job_id, outcome, job.committed_at or 0.0, replace=True)
        return self._show(job.job_id), 201

    async def set_job_progress(self, job_id: str, body: dict[str, str]) -> dict[str, Any]:
        job = self._job(job_id)
        self.store.set_progress(job.job_id, body["mode"])
        return self._show(job.job_id)

    async def advance_job(self, job_id: str) -> dict[str, Any]:
        job = self.service.settled(self._job(job_id))
        if job.state == lifecycle.PROCESSING and job.outcome is None:
            # the worker (of whichever process) assesses it: wait for that one assessment
            job = await self.service.outcome_of(job)
        after = lifecycle.step(job, self.service.clock.now())
        if after is None:
            raise ApiError(
                Codes.INVALID_PARAMETER,
                f"job {job_id} cannot advance from {job.state}"
                + (" (commit it first)" if job.state == lifecycle.CREATING else ""),
            )
        if not self.store.transition(job, after):
            raise ApiError(Codes.INVALID_PARAMETER, f"job {job_id} changed meanwhile; try again")
        return self._show(job_id)

    async def fail_job(self, job_id: str, body: dict[str, str]) -> dict[str, Any]:
        outcome = Outcome(
            state=lifecycle.FAILED,
            failed_code=body["job_failed_code"],
            failed_reason=body["job_failed_reason"],
        )
        self.store.force(self._job(job_id), outcome, self.service.clock.now())
        return self._show(job_id)

    async def succeed_job(self, job_id: str, body: Any = None) -> dict[str, Any]:
        job = self._job(job_id)
        outcome = await self._success(job, _optional_object(body))
        self.store.force(job, outcome, self.service.clock.now())
        return self._show(job_id)

    async def _success(self, job: Job, body: dict[str, Any]) -> Outcome:
        """SUCCEED with `body`'s assess_result (checked), or the assessment of the job's upload."""
        result = body.get("assess_result")
        if result is not None:
            _check_assess_result(result)
            return Outcome(state=lifecycle.SUCCEED, assess_result=result)
        if not self.service.uploads.has(job.job_id):
            raise ApiError(
                Codes.INVALID_PARAMETER,
                f"job {job.job_id} has no upload to assess: give an assess_result",
            )
        outcome = await self.service.assess(job)
        if outcome.state != lifecycle.SUCCEED:
            raise ApiError(
                Codes.INVALID_PARAMETER,
                f"job {job.job_id}'s upload cannot be assessed: {outcome.failed_reason}",
            )
        return outcome

    async def set_job_state(self, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Put a job in any JobState, with the fields the service shows in it (steering.py), in
        one transaction that also starts its show count afresh (`Store.pin`)."""
        job = self._job(job_id)
        steering.check_fields(body["state"], body)
        if body["state"] == lifecycle.SUCCEED:  # checks, or computes, the assess_result
            outcome = await self._success(job, body)
            body = {**body, "assess_result": outcome.assess_result}
        steering.set_state(self.store, job, body["state"], body, self.service.clock.now())
        return self._show(job_id)

    # -- helpers --------------------------------------------------------------------------------

    def default_progress(self) -> str:
        return self.service.default_progress()

    def _job(self, job_id: str) -> Job:
        job = self.store.get(job_id)
        if job is None:
            raise ApiError(Codes.INVALID_PARAMETER, f"job {job_id} does not exist")
        return job

    def _show(self, job_id: str) -> dict[str, Any]:
        return self.service.settled(self._job(job_id)).to_api()


def _optional_object(body: Any) -> dict[str, Any]:
    """An optional JSON object body as connexion hands it over: parsed when the request said
    `Content-Type: application/json`, raw bytes when it sent no Content-Type (connexion then
    leaves the body alone), the spec's default `{}` when there was no body at all."""
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    if isinstance(body, bytes | bytearray):
        # the one JSON parser (core.body): RFC 8259, or 400 MSS.10000002 saying why
        body = parse_json(bytes(body)) if body.strip() else {}
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise ApiError(Codes.INVALID_BODY, f"the body must be a JSON object, not {body!r:.40}")
    return body


@cache
def _assess_result_validator() -> jsonschema.Draft4Validator:
    """AssessResult as `openapi.yaml` defines it: the one description of the shape."""
    schemas = spec_document()["components"]["schemas"]
    schema = {**schemas["AssessResult"], "components": {"schemas": schemas}}
    return jsonschema.Draft4Validator(schema)


def _check_assess_result(result: Any) -> None:
    errors = sorted(_assess_result_validator().iter_errors(result), key=str)
    if errors:
        where = "/".join(str(part) for part in errors[0].absolute_path) or "assess_result"
        raise ApiError(
            Codes.INVALID_BODY,
            f"assess_result is not an AssessResult: {where}: {errors[0].message}",
        )
