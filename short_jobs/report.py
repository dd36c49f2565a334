"""A job as a person reads it: its state, the assessment as a compact table, advice in one language.

Rules, and why:

- Fits 80 columns: one short row per metric (metric, actual, expected, verdict); cells wrap at
  word boundaries, never inside a word. The per-metric advice is not a column (long sentences
  made the table ~70 lines at 80 columns): it is listed below the table, only for the metrics
  that need attention, in the chosen language (``EN``: ``suggestion_en``, ``CN``:
  ``suggestion``; the other one when the chosen one is missing).
- Honest verdicts: ``ok`` only for a measured value within range (status 0). A metric the
  service could not measure (``actual`` "n/a" or empty) is ``not measured``, whatever its
  status; a status this client does not know is shown as its number.
- In a pipe (no terminal) nothing is wrapped to a guessed width: the table keeps its natural
  width and each sentence stays on one line, for ``grep`` and log files.
- States and job types this client does not know are printed as they came, marked as new.
- Every field of the answer is printed through :func:`short_jobs.terminal.clean`: a control
  character from the service (a zip entry's name in ``job_failed_reason``, say) is shown escaped,
  never obeyed by the terminal.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Callable
from typing import IO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from short_jobs import terminal
from short_jobs_client.models import AssessProperty, AssessResult, Language, ShowShortJobResponse
from short_jobs_client.types import Unset

__all__ = ["METRICS", "print_to_stdout", "render_job", "stdout_console", "verdict"]

METRICS: tuple[tuple[str, str], ...] = (
    ("speed", "speaking rate"),
    ("sound", "loudness"),
    ("snr", "signal-to-noise"),
    ("reverb", "reverberation"),
    ("dnsmos_ovrl", "DNSMOS overall"),
    ("dnsmos_bak", "DNSMOS background"),
)
"""The six assessed properties, in the order the API documents them, with a readable name."""

_NOT_MEASURED = {"", "n/a", "na", "none", "null", "-"}
_OK, _OUT, _UNMEASURED = "ok", "out of range", "not measured"


def stdout_console(file: IO[str] | None = None) -> Console:
    """The console for a command's report: at a terminal rich wraps at words to its width; in a
    pipe nothing is wrapped (sentences stay whole lines, a table keeps its natural width) and
    nothing is coloured. Never emoji codes: a ``:warning:`` in an answer is shown as sent.
    ``file``: render there instead (as stdout would get it) rather than to stdout itself."""
    if sys.stdout.isatty():
        if file is None:
            return Console(emoji=False)
        width = shutil.get_terminal_size().columns
        return Console(file=file, force_terminal=True, width=width, emoji=False)
    return Console(file=file, width=10_000, soft_wrap=True, color_system=None, emoji=False)


def print_to_stdout(render: Callable[[Console], None]) -> None:
    """What ``render`` prints on :func:`stdout_console`, written through
    :func:`short_jobs.terminal.write_stdout`: rendered into a string first (rich would write
    stdout itself, and its ``OSError`` would escape as a traceback), so a stdout that refuses it
    is a :class:`~short_jobs.terminal.StdoutFailed`, as for every other write."""
    rendered = io.StringIO()
    render(stdout_console(rendered))
    terminal.write_stdout(rendered.getvalue())


def _text(value: object) -> str:
    return "" if isinstance(value, Unset) or value is None else str(value)


def _shown(value: object) -> str:
    """A field of the service's answer as printed: control characters escaped, secrets
    scrubbed (:func:`short_jobs.terminal.clean`); the verdicts read the raw :func:`_text`."""
    return terminal.clean(_text(value))


def verdict(prop: AssessProperty) -> str:
    """``ok``, ``out of range``, ``not measured``, ``status N`` (unknown), or ``""`` (none)."""
    if _text(prop.actual).strip().lower() in _NOT_MEASURED:
        return _UNMEASURED
    if isinstance(prop.status, Unset):
        return ""
    return {0: _OK, 1: _OUT}.get(prop.status, f"status {prop.status}")


def _styled(text: str) -> str:
    style = {_OK: "green", _OUT: "red", _UNMEASURED: "yellow"}.get(text, "yellow")
    return f"[{style}]{text}[/{style}]" if text else ""


def _advice(prop: AssessProperty, language: Language) -> str:
    chinese, english = _text(prop.suggestion), _text(prop.suggestion_en)
    first, second = (english, chinese) if language == Language.EN else (chinese, english)
    return terminal.clean(" ".join((first or second).split()))


def _table(result: AssessResult) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title_justify="left")
    table.add_column("metric", no_wrap=True)
    table.add_column("actual")
    table.add_column("expected")
    table.add_column("verdict", no_wrap=True)
    for key, label in METRICS:
        prop = getattr(result, key)
        if isinstance(prop, AssessProperty):
            table.add_row(
                label,
                Text(_shown(prop.actual)),
                Text(_shown(prop.expected)),
                _styled(verdict(prop)),
            )
    return table


def render_job(detail: ShowShortJobResponse, console: Console, language: Language) -> None:
    """Print the job's state, failure, assessment table and advice to ``console``."""
    state = _shown(detail.state.value)
    state += "" if detail.state.is_known else " (a state new to this client)"
    head = Text.assemble("job ", (_shown(detail.job_id), "bold"), f": {state}")
    if not isinstance(detail.job_type, Unset) and not detail.job_type.is_known:
        head.append(f" (job type {_shown(detail.job_type.value)})")
    console.print(head, highlight=False)
    if not isinstance(detail.job_failed_code, Unset):
        console.print(
            f"failed: {_shown(detail.job_failed_code)}: {_shown(detail.job_failed_reason)}",
            highlight=False,
            markup=False,
        )
    result = detail.assess_result
    if isinstance(result, Unset):
        return
    # Cells are padded to their column's width; trailing blanks only clutter a pipe or a log.
    with console.capture() as captured:
        console.print(_table(result))
    for line in captured.get().splitlines():
        console.print(Text.from_ansi(line.rstrip()))
    attention = [
        (label, _advice(prop, language))
        for key, label in METRICS
        if isinstance(prop := getattr(result, key), AssessProperty) and verdict(prop) != _OK
    ]
    for label, advice in attention:
        if advice:
            console.print(f"- {label}: {advice}", highlight=False, markup=False)
    if not isinstance(result.suggestion, Unset) and result.suggestion:
        console.print(
            f"overall: {terminal.clean(' '.join(result.suggestion.split()))}",
            highlight=False,
            markup=False,
        )
