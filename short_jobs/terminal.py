"""The one way both command lines (``short-jobs``, ``short-jobs-mock assess``) print text.

Text that came from outside (the service's answers, file and zip entry names, WAV chunk ids,
headers, a user's argument echoed back) may hold characters a terminal obeys rather than shows:
``ESC [2J`` clears the screen, ``\\r`` or ``\\n`` fakes a line, U+202E turns the rest of the line
around. So every character a terminal could act on is shown as its Python escape instead:

- C0 controls (U+0000-U+001F, ``\\n``, ``\\r`` and ``\\t`` included: a value is one line), DEL
  (U+007F) and the C1 controls (U+0080-U+009F, ``\\x9b`` is a one-byte CSI): ``\\x1b``, ``\\n``;
- format characters (Unicode category Cf: bidi embeddings, overrides and isolates, zero-width
  characters, the BOM), the line and paragraph separators (Zl, Zp) and lone surrogates (Cs,
  which no terminal encoding can even write): ``\\u202e``, ``\\U000e0001``.

A backslash itself is left as it is (Windows paths stay readable), so ``\\x1b`` on screen is
either an escaped ESC or those four characters; ``--json`` says which.

- :func:`clean` is for one value placed inside a line the toolkit writes (a table cell, an
  error message's field); :func:`echo` writes whole text, keeping only its own line breaks.
- :func:`json_text` / :func:`echo_json` are ``--json``: the raw value survives a ``json.loads``,
  and the unsafe characters are JSON ``\\u`` escapes on the wire, so even ``--json`` never puts a
  raw control character on stdout.
- Every write to stdout goes through :func:`write_stdout`: a stdout that refuses it (``/dev/full``
  answers ENOSPC, a closed pipe EPIPE) raises :class:`StdoutFailed` instead of the ``OSError``, so
  a command still writes its files and then says in one line what was lost and which job it was
  (:class:`LostStdout`, the mixin both command lines use), never a traceback.
- Both also scrub every secret the toolkit knows (:func:`short_jobs.redact.scrub`) unless the
  output *is* the secret the user asked for (``short-jobs create`` prints the pre-signed URL).
"""

from __future__ import annotations

import errno
import json
import os
import re
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from rich.markup import escape as _markup_escape

from short_jobs.redact import scrub, scrub_data

__all__ = [
    "EscapedErrors",
    "LostStdout",
    "StdoutFailed",
    "clean",
    "echo",
    "echo_json",
    "escape",
    "is_unsafe",
    "json_text",
    "markup",
    "write_stdout",
    "writing",
]

_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def is_unsafe(char: str) -> bool:
    """Whether a terminal could act on ``char`` instead of showing it (see the module's list)."""
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def _escaped(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _char_class(ranges: list[tuple[int, int]]) -> re.Pattern[str]:
    parts = (re.escape(chr(low)) + "-" + re.escape(chr(high)) for low, high in ranges)
    return re.compile("[" + "".join(parts) + "]")


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Every unsafe code point as a character class: all of them, and all but ``\\n``.

    Found once, on first use, from the Unicode database itself, so no member of a category is
    missed (about 0.15 s; the CLIs print a few lines).
    """
    ranges: list[tuple[int, int]] = []
    for code in range(0x110000):
        if is_unsafe(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    newline = ord("\n")
    without_newline = [
        part
        for low, high in ranges
        for part in ((low, min(high, newline - 1)), (max(low, newline + 1), high))
        if part[0] <= part[1]
    ]
    return _char_class(ranges), _char_class(without_newline)


def escape(text: str) -> str:
    """``text`` with every unsafe character shown as its escape: one line, nothing to obey."""
    if text.isprintable():  # no unsafe character (each is non-printable): no table needed
        return text
    return _patterns()[0].sub(lambda m: _escaped(m[0]), text)


def clean(value: object) -> str:
    """A value from outside, ready to sit inside a line: secrets scrubbed, then escaped."""
    return escape(scrub(str(value)))


def markup(value: object) -> str:
    """:func:`clean`, and rich's markup brackets escaped, for a rich string with ``[style]``."""
    return _markup_escape(clean(value))


def _lines(text: str) -> str:
    """``text`` escaped except for its line breaks (the toolkit's own)."""
    return _patterns()[1].sub(lambda m: _escaped(m[0]), text)


def echo(text: str, *, err: bool = False, secrets_shown: bool = False) -> None:
    """Write ``text`` and a newline to stdout (``err``: stderr), plainly (no wrapping).

    Secrets are scrubbed unless ``secrets_shown`` (the text is a credential the user asked
    for); unsafe characters are escaped, the line breaks of ``text`` kept.
    """
    shown = _lines(text if secrets_shown else scrub(text)) + "\n"
    if not err:
        write_stdout(shown)
        return
    sys.stderr.write(shown)
    sys.stderr.flush()


class StdoutFailed(Exception):
    """stdout refused the results (the ``OSError`` is :attr:`error`). :attr:`what` and
    :attr:`job_id` say what was lost, set by :func:`writing` around the write."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error
        self.what: str | None = None
        self.job_id: str | None = None

    @property
    def broken_pipe(self) -> bool:
        """The reader went away (``| head``): the reader chose to stop, not a failure to tell."""
        return self.error.errno == errno.EPIPE

    @property
    def reason(self) -> str:
        """The kernel's reason in words (``No space left on device``)."""
        return self.error.strerror or str(self.error) or type(self.error).__name__

    def line(self, prog: str) -> str:
        """The one stderr line: what could not be written, why, and the job, so it is not lost."""
        text = (
            f"{prog}: error: could not write {self.what or 'the results'} to stdout: {self.reason}"
        )
        if self.job_id is not None:
            text += f"; job_id={self.job_id}"
        return clean(text)


def write_stdout(text: str) -> None:
    """Write ``text`` to stdout and flush; raise :class:`StdoutFailed` if stdout refuses it."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as error:
        _silence_stdout()
        raise StdoutFailed(error) from error


def _silence_stdout() -> None:
    """Point file descriptor 1 at the null device: what is left in ``sys.stdout``'s buffer is
    flushed again at exit, and a second failure there would print Python's "Exception ignored"
    lines after the one line the command says (rich does the same for a broken pipe)."""
    try:
        descriptor = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not a real file (a test's capture): nothing flushes it at exit
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, descriptor)
    os.close(null)


@contextmanager
def writing(what: str, job_id: str | None = None) -> Iterator[None]:
    """Name what the writes inside are (``the job``) and the job they are about, for the line a
    :class:`StdoutFailed` becomes; the innermost name wins."""
    try:
        yield
    except StdoutFailed as lost:
        lost.what = lost.what or what
        lost.job_id = lost.job_id or job_id
        raise


class LostStdout:
    """A mixin for a click command class (click's own or typer's): a :class:`StdoutFailed`
    ends the command with its one stderr line and exit 1; a broken pipe is given back to click,
    which ends quietly with exit 1 as for any ``| head``."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except StdoutFailed as lost:
            if lost.broken_pipe:
                raise lost.error from None
            echo(lost.line(ctx.find_root().info_name), err=True)
            ctx.exit(1)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # UTF-16 surrogate pair, what JSON's \u escape spells above the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(data: Any, *, secrets_shown: bool = False) -> str:
    """``data`` as indented JSON: readable UTF-8, but every unsafe character ``\\u``-escaped.

    JSON's own structure is ASCII, so an unsafe character can only sit inside a string, where
    ``\\uXXXX`` is what it means: ``json.loads`` gives the raw value back.
    """
    shown = data if secrets_shown else scrub_data(data)
    text = json.dumps(shown, ensure_ascii=False, indent=2)
    return _patterns()[1].sub(lambda m: _json_escape(m[0]), text)


def echo_json(data: Any, *, secrets_shown: bool = False) -> None:
    """Print ``data`` on stdout as :func:`json_text` and a newline."""
    write_stdout(json_text(data, secrets_shown=secrets_shown) + "\n")


class EscapedErrors:
    """A mixin for a click command class (click's own or the one typer vendors): every error
    click prints for it (a usage error quoting an argument, a ``ClickException`` of its own)
    has its message passed through :func:`clean` first.

    Click's own message escaping covers C0 and C1 controls only, and an argument echoed in
    "Got unexpected extra argument(s)" may hold U+202E or U+2028. The hook is the two documented
    ``Command`` methods every error of parsing or running passes through, ``make_context`` and
    ``invoke``; click's exceptions are recognised by shape (``format_message``, ``exit_code``)
    because the two clicks' classes differ.
    """

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)  # type: ignore[misc]
        except Exception as error:
            _escape_click_error(error)
            raise

    def invoke(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().invoke(*args, **kwargs)  # type: ignore[misc]
        except Exception as error:
            _escape_click_error(error)
            raise


def _escape_click_error(error: Exception) -> None:
    """Make a click exception's ``format_message`` answer its message cleaned (once)."""
    render = getattr(error, "format_message", None)
    if not callable(render) or not hasattr(error, "exit_code"):
        return
    if type(error).__name__ == "NoArgsIsHelpError" or getattr(error, "_escaped", False):
        return  # the help text click prints: the toolkit's own words
    text = clean(render())
    error.format_message = lambda: text  # type: ignore[attr-defined]
    error._escaped = True  # type: ignore[attr-defined]
