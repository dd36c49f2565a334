"""Log messages that quote a request are printable whatever handler formats them.

The mock's own command escapes whole messages (`accesslog.CachedTimeFormatter`); embedded in a
user's process (the pytest fixture, caplog, a JSON handler) the records reach formatters the mock
never chose, so the client's text is made printable where the message is made
(`core.text.Printable`): an ESC, CR/LF, NEL, U+2028 or an undecodable byte in a path, a method or
a header copied into a signature check can neither split the user's log line nor colour a
terminal.
"""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.core.state import note_signature_check
from mock_server.core.text import Printable, printable

# anything a client can make the mock hold: a decoded path, a header as text (lone surrogates
# stand for undecodable bytes: `core.text.header_text`)
client_text = st.text(st.characters(), max_size=30)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=client_text, path=client_text, header=client_text)
def test_a_refused_signatures_debug_line_is_printable(
    caplog: pytest.LogCaptureFixture, method: str, path: str, header: str
) -> None:
    caplog.set_level(logging.DEBUG, logger="mock_server.signature")
    caplog.clear()
    scope = {"type": "http", "method": method, "path": path}
    note_signature_check(scope, {"canonical_request": f"{method}\n{path}\nx-h:{header}\n"})
    [record] = [r for r in caplog.records if r.name == "mock_server.signature"]
    message = record.getMessage()
    assert message.isprintable(), ascii(message)
    assert printable(path) in message  # shown, escaped, not dropped


@given(client_text)
def test_printable_is_lazy_and_shows_the_text_printable(text: str) -> None:
    shown = Printable(text)
    assert shown.text is text  # nothing done until a handler formats the record
    assert str(shown) == printable(text) and str(shown).isprintable()


def test_an_escape_sequence_in_a_path_is_shown_not_obeyed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mock_server.signature")
    note_signature_check({"type": "http", "method": "GET", "path": "/v1/\x1b[2J\r\nforged"}, {})
    [message] = [r.getMessage() for r in caplog.records if r.name == "mock_server.signature"]
    assert "\x1b" not in message and "\n" not in message and "\\x1b[2J" in message
