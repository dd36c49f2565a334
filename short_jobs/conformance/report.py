"""The outcome of a run, and its three renderings: text lines, one JSON document, JUnit XML.

Text: one line per statement, ``held``, ``drifted`` or ``not tried``, its id, and what was
expected, what came back and the request id to quote to the vendor; then a summary line, then
every finding of every drifted statement, one per line. JSON: the same data for scripts (each
statement's ``findings``, and ``findings`` of the whole run). JUnit XML (the schema CI servers
read: Jenkins, GitLab, GitHub actions' test reporters): one ``testcase`` per statement, a
``failure`` for a drift (its message the most serious finding, its text every finding) and
``skipped`` for a statement not tried.

A drifted statement's findings are ordered by :data:`.exchange.SEVERITY` (status, then body and
code, then headers) wherever it is shown, so a line leads with the worst of them. What came from
the endpoint is shown through :mod:`short_jobs.terminal` and :mod:`short_jobs.redact` (escaped,
secrets scrubbed) in the text and JUnit renderings; JSON keeps the raw values (scrubbed),
JSON-escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree

from short_jobs import terminal
from short_jobs.conformance.exchange import Finding, most_serious_first
from short_jobs.conformance.statements import Statement

__all__ = ["Outcome", "Report", "Result", "Spending"]

SUITE = "short-jobs conformance"


class Outcome(StrEnum):
    HELD = "held"
    DRIFTED = "drifted"
    NOT_TRIED = "not tried"


@dataclass(frozen=True)
class Result:
    """One statement's outcome; ``findings`` say how it drifted, ``reason`` why not tried."""

    statement: Statement
    outcome: Outcome
    got: str = ""
    request_id: str | None = None
    findings: tuple[Finding, ...] = ()
    reason: str = ""

    def __post_init__(self) -> None:
        # The one place findings are ordered: every rendering reads them from here.
        object.__setattr__(self, "findings", most_serious_first(self.findings))

    @property
    def expected(self) -> str:
        if self.findings:
            return self.findings[0].expected
        return self.statement.expected

    @property
    def shown_got(self) -> str:
        """What came back, as the line shows it: the first finding's, else the answer."""
        return self.findings[0].got if self.findings else self.got

    def line(self) -> str:
        """``drifted    unknown-job  status: expected 400, got 404 APIGW.0101  request_id=...``."""
        head = f"{self.outcome.value:<10} {self.statement.id:<21}"
        if self.outcome is Outcome.NOT_TRIED:
            return f"{head} needs {terminal.clean(self.reason)}"
        if self.outcome is Outcome.HELD:
            detail = f"{self.statement.says}: got {terminal.clean(self.got)}"
        else:
            first = self.findings[0]
            more = f" (+{len(self.findings) - 1} more)" if len(self.findings) > 1 else ""
            detail = _shown(first) + more
        return f"{head} {detail}  request_id={terminal.clean(self.request_id or '-')}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.statement.id,
            "says": self.statement.says,
            "source": self.statement.source,
            "outcome": self.outcome.value,
            "expected": self.expected,
            "got": self.shown_got,
            "request_id": self.request_id,
            "findings": [_finding_dict(f) for f in self.findings],
            "reason": self.reason or None,
        }


def _shown(finding: Finding) -> str:
    """``status: expected 400, got 404 APIGW.0101``, what came back escaped and scrubbed."""
    return terminal.clean(str(finding))


def _finding_dict(finding: Finding) -> dict[str, str]:
    return {"check": finding.check, "expected": finding.expected, "got": finding.got}


@dataclass
class Spending:
    """What the run cost on the endpoint."""

    jobs_created: int = 0
    jobs_committed: int = 0
    bytes_uploaded: int = 0
    requests: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "jobs_created": self.jobs_created,
            "jobs_committed": self.jobs_committed,
            "bytes_uploaded": self.bytes_uploaded,
            "requests": self.requests,
        }


@dataclass
class Report:
    endpoint: str
    results: list[Result] = field(default_factory=list)
    spent: Spending = field(default_factory=Spending)
    timed_out: bool = False
    """The job did not reach a final state within the wait (exit 4 unless something drifted)."""

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)

    @property
    def drifted(self) -> bool:
        return self.count(Outcome.DRIFTED) > 0

    def result(self, statement_id: str) -> Result:
        for result in self.results:
            if result.statement.id == statement_id:
                return result
        raise KeyError(statement_id)

    def summary(self) -> str:
        spent = self.spent
        return (
            f"{len(self.results)} statements: {self.count(Outcome.HELD)} held, "
            f"{self.count(Outcome.DRIFTED)} drifted, {self.count(Outcome.NOT_TRIED)} not tried "
            f"({self.endpoint}; {spent.jobs_created} job(s) created, {spent.jobs_committed} "
            f"committed, {spent.bytes_uploaded} bytes uploaded, {spent.requests} requests)"
        )

    def findings(self) -> list[tuple[Result, Finding]]:
        """Every finding of the run: statement by statement, each one's most serious first."""
        return [(result, finding) for result in self.results for finding in result.findings]

    def text(self) -> str:
        """The statement lines, the summary, then every finding (none when nothing drifted)."""
        lines = [result.line() for result in self.results]
        lines.append(terminal.clean(self.summary()))
        every = self.findings()
        if every:
            lines.append(f"every finding ({len(every)}):")
            width = max(len(result.statement.id) for result, _ in every)
            lines += [f"  {result.statement.id:<{width}}  {_shown(f)}" for result, f in every]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "statements": [result.to_dict() for result in self.results],
            "summary": {
                "held": self.count(Outcome.HELD),
                "drifted": self.count(Outcome.DRIFTED),
                "not_tried": self.count(Outcome.NOT_TRIED),
                "timed_out": self.timed_out,
            },
            "spent": self.spent.to_dict(),
            "findings": [
                {"id": result.statement.id, **_finding_dict(finding)}
                for result, finding in self.findings()
            ],
        }

    def json(self) -> str:
        """:meth:`to_dict` as JSON: raw values, secrets scrubbed, unsafe characters escaped."""
        return terminal.json_text(self.to_dict()) + "\n"

    def junit_xml(self) -> bytes:
        """JUnit XML: one suite, a testcase per statement (``classname`` = the suite)."""
        suite = ElementTree.Element(
            "testsuite",
            name=SUITE,
            tests=str(len(self.results)),
            failures=str(self.count(Outcome.DRIFTED)),
            errors="0",
            skipped=str(self.count(Outcome.NOT_TRIED)),
        )
        ElementTree.SubElement(
            ElementTree.SubElement(suite, "properties"),
            "property",
            name="endpoint",
            value=terminal.clean(self.endpoint),
        )
        for result in self.results:
            case = ElementTree.SubElement(
                suite, "testcase", classname=SUITE, name=result.statement.id
            )
            request_id = terminal.clean(result.request_id or "-")
            if result.outcome is Outcome.DRIFTED:
                more = len(result.findings) - 1
                failure = ElementTree.SubElement(
                    case,
                    "failure",
                    type="drift",
                    message=_shown(result.findings[0]) + (f" (+{more} more)" if more else ""),
                )
                failure.text = "\n".join(
                    [
                        result.statement.says,
                        f"source: {result.statement.source}",
                        *(_shown(finding) for finding in result.findings),
                        f"request_id: {request_id}",
                    ]
                )
            elif result.outcome is Outcome.NOT_TRIED:
                reason = terminal.clean(result.reason)
                ElementTree.SubElement(case, "skipped", message=f"needs {reason}")
            else:
                output = ElementTree.SubElement(case, "system-out")
                got = terminal.clean(result.got)
                output.text = f"{result.statement.says}: got {got}; request_id: {request_id}"
        # The run's end, as in the text: every finding, most serious first per statement.
        every = ElementTree.SubElement(suite, "system-out")
        every.text = "\n".join(
            [terminal.clean(self.summary())]
            + [f"{result.statement.id}: {_shown(finding)}" for result, finding in self.findings()]
        )
        suites = ElementTree.Element("testsuites", name=SUITE)
        suites.append(suite)
        document: bytes = ElementTree.tostring(suites, encoding="utf-8", xml_declaration=True)
        return document
