"""`assert_called`: a test's expectation about the requests the mock received (its journal).

The fixture's `assert_called(operation, times=None, **filters)` asks the control plane for the
journal and hands it here. A failure is an `AssertionError` whose message lists the matching
journal lines (or, when none match, the latest lines received), so the test's output says what
the code under test actually did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# The journal's fields a filter may compare for equality (JournalEntry in control.yaml).
ENTRY_FIELDS = (
    "method",
    "path",
    "query",
    "operation",
    "job_id",
    "status",
    "error_code",
    "request_id",
)
# Lines of context shown when nothing matched.
CONTEXT_LINES = 20


def journal_line(entry: Mapping[str, Any]) -> str:
    """One entry as a line: `#id METHOD path?query -> status code (operation job=.. rid=.. ms)`."""
    query = entry.get("query") or ""
    target = entry["path"] + ("?" + query if query else "")
    code = f" {entry['error_code']}" if entry.get("error_code") else ""
    details = [entry.get("operation") or "-"]
    if entry.get("job_id"):
        details.append(f"job={entry['job_id']}")
    details.append(f"rid={entry.get('request_id', '')}")
    details.append(f"{entry.get('duration_ms', 0):.1f}ms")
    answer = f"{entry['status']}{code}"
    return f"#{entry['id']} {entry['method']} {target} -> {answer} ({' '.join(details)})"


def matching(entries: Sequence[Mapping[str, Any]], **fields: Any) -> list[Mapping[str, Any]]:
    """The entries whose fields equal every given value (None: any)."""
    unknown = sorted(set(fields) - set(ENTRY_FIELDS))
    if unknown:
        raise TypeError(f"unknown journal field(s) {unknown}: filter on {', '.join(ENTRY_FIELDS)}")
    wanted = {key: value for key, value in fields.items() if value is not None}
    if "method" in wanted:
        wanted["method"] = str(wanted["method"]).upper()
    return [entry for entry in entries if all(entry.get(k) == v for k, v in wanted.items())]


def check_called(
    found: Sequence[Mapping[str, Any]],
    everything: Sequence[Mapping[str, Any]],
    what: str,
    times: int | None,
) -> None:
    """Raise `AssertionError` unless `found` (the matching entries) has `times` entries (at least
    one if None). `everything` is the whole journal, shown when nothing matched; `what` names
    the expectation in the message (`show_short_job with job_id='..'`)."""
    __tracebackhide__ = True
    if times is None and found:
        return
    if times is not None and len(found) == times:
        return
    expected = "at least once" if times is None else _times(times)
    if found:
        lines = [journal_line(entry) for entry in found]
        raise AssertionError(
            f"expected {what} to be called {expected}, it was called {_times(len(found))}:\n  "
            + "\n  ".join(lines)
        )
    recent = [journal_line(entry) for entry in everything[-CONTEXT_LINES:]]
    received = (
        f"the latest {len(recent)} of {len(everything)} requests received:\n  "
        + "\n  ".join(recent)
        if recent
        else "the mock received no request"
    )
    raise AssertionError(
        f"expected {what} to be called {expected}, it was never called; {received}"
    )


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"
