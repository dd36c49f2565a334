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
from collections.abc import Callable
from contextlib import AbstractContextManager

import plain_http
import pytest
from helpers import item
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.core.state import note_signature_check
from mock_server.core.text import Printable, printable
from mock_server.faces.inprocess import RunningMock
from mock_server.service.handlers import Service

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


def test_an_unexpected_error_names_the_path_printable_over_real_http(
    make_mock: Callable[..., AbstractContextManager[RunningMock]],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The front door's "unexpected error on METHOD PATH", from a request whose job id holds
    U+2028, NEL and a byte that is not UTF-8 (all of which route): a user's UTF-8 log file or
    terminal gets one printable line."""

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a bug of the mock's")

    monkeypatch.setattr(Service, "find", broken)
    with make_mock() as server:
        response = plain_http.get(
            server.url + item(server, "job-%E2%80%A8a%C2%85b%FFc"),
            headers={"X-Auth-Token": server.token},
        )
    assert response.status_code == 500, response.text
    messages = [r.getMessage() for r in caplog.records if "unexpected error on" in r.getMessage()]
    assert messages, [r.getMessage() for r in caplog.records]
    for message in messages:
        assert message.isprintable(), ascii(message)
        message.encode("utf-8")  # no lone surrogate: a UTF-8 handler can write it
