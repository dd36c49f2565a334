"""Untrusted text never reaches a terminal raw (issue 19, item 3).

Every command of ``short-jobs`` and ``short-jobs-mock assess`` prints what came from outside
(the service's answers, headers, zip entry and file names) through ``short_jobs.terminal``: a
control or format character is shown as its escape, never obeyed; ``--json`` keeps the raw value,
JSON-escaped. The family: random text with every kind of unsafe character (C0, DEL, C1, format
and bidi characters, line separators, lone surrogates), placed in every field a hostile service
can fill, through the real command lines over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from helpers import StubServer, collection, item, token_client, upload, wait_final
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

import short_jobs.cli
from mock_server.faces import assess_cli
from mock_server.faces.inprocess import RunningMock
from mock_server.samples import make_zip, speech_like_wav_bytes
from short_jobs import ShortJobs
from short_jobs.cli import app
from short_jobs.redact import scrub
from short_jobs.terminal import clean, escape, is_unsafe, json_text

pytestmark = pytest.mark.usefixtures("clean_client_env")

NAMED_ENTRY = "take\x1b[2J\x1b[32mall good\x1b[0m\nSUCCEED.wav"
"""Issue 19's zip entry: clears the screen and fakes a green SUCCEED line when printed raw."""

PROJECT = "hostile-project"
JOB_ID = "5b0c7a4e-8d6f-4a4b-9a55-0f1c2d3e4f50"

UNSAFE = st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Cs"])
hostile_text = st.text(st.one_of(UNSAFE, st.characters(), st.sampled_from("[]:\\")), max_size=24)
"""Text a hostile service or file system may hand over: every unsafe category, rich's markup
brackets and emoji colons, backslashes."""


def assert_nothing_unsafe(text: str) -> None:
    """No character a terminal could obey, except the output's own line breaks."""
    found = sorted({hex(ord(c)) for c in text if c != "\n" and is_unsafe(c)})
    assert not found, f"unsafe characters reached the output: {found}"


# --- the function itself ---------------------------------------------------------------------


def test_every_code_point_is_either_shown_or_escaped() -> None:
    for code in range(0x110000):
        char = chr(code)
        shown = escape(char)
        assert (shown != char) is is_unsafe(char), hex(code)
        assert not any(is_unsafe(c) for c in shown), hex(code)


def test_the_unsafe_set_is_the_categories_a_terminal_obeys() -> None:
    for char in "\x00\x07\x08\t\n\r\x1b\x7f\x85\x9b\u200b\u200e\u202e\u2066\u2028\u2029\ufeff":
        assert is_unsafe(char), hex(ord(char))
    for char in "a \\[]:é中😀\u00a0":
        assert not is_unsafe(char), repr(char)
    assert unicodedata.category("\ud800") == "Cs" and is_unsafe("\ud800")


@given(hostile_text)
def test_json_keeps_the_raw_value_and_escapes_every_unsafe_character(value: str) -> None:
    document = json_text({"value": value, "list": [value]})
    assert_nothing_unsafe(document)
    assert json.loads(document) == {"value": value, "list": [value]}


@given(hostile_text)
def test_escaping_is_one_line_and_keeps_every_safe_character(value: str) -> None:
    shown = clean(value)
    assert "\n" not in shown
    assert_nothing_unsafe(shown)
    if scrub(value) == value:  # (a value that looks like "password=..." is scrubbed too)
        rest = iter(shown)
        assert all(c in rest for c in value if not is_unsafe(c)), "a safe character was lost"


# --- a hostile service over real HTTP ---------------------------------------------------------


@dataclass
class Hostile:
    """A service on 127.0.0.1 that answers with whatever the test sets: the job every show
    answers (``job``), and for every other request ``status``, ``body`` and a request id."""

    url: str = ""
    job: dict[str, Any] = field(default_factory=dict)
    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    request_id: bytes = b"hostile-request"


def _handler(hostile: Hostile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _route(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            show = self.command == "GET" and self.path == f"{COLLECTION}/{JOB_ID}"
            status, body = (200, hostile.job) if show else (hostile.status, hostile.body)
            data = json.dumps(body).encode()  # ASCII: a lone surrogate travels as \\ud800
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            # Raw, past http.server's str headers: bytes 0x80-0xff are legal obs-text, and
            # httpx reads them as Latin-1, C1 controls (0x9b: CSI) among them.
            buffer: list[bytes] = self._headers_buffer  # type: ignore[attr-defined]
            buffer.append(b"X-Request-Id: " + hostile.request_id + b"\r\n")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _route

    return Handler


COLLECTION = f"/v1/{PROJECT}/voice-training-manage/user/short-jobs"
WAV = speech_like_wav_bytes(seconds=1.0)


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    state = Hostile()
    server = StubServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


class _Unslept(ShortJobs):
    """The command line's client, its retry backoff not slept: the hostile service's 500s are
    retried as always (the same requests, the same answers printed), without the seconds of full
    jitter between them that were nearly all of the property test's time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("sleep", lambda seconds: None)
        super().__init__(*args, **kwargs)


@pytest.fixture
def unslept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(short_jobs.cli, "ShortJobs", _Unslept)


def cli(hostile: Hostile, *args: str) -> Result:
    env = {
        "SHORT_JOBS_ENDPOINT": hostile.url,
        "HUAWEICLOUD_SDK_TOKEN": "hostile-token-0123456789",
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
    }
    return CliRunner().invoke(app, list(args), env=env)


def assert_safe(result: Result) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert not isinstance(result.exception, UnicodeError), result.exception
    assert_nothing_unsafe(result.stdout)
    assert_nothing_unsafe(result.stderr)


def hostile_job(text: str, state: str) -> dict[str, Any]:
    prop = {
        "expected": text,
        "actual": text,
        "status": 1,
        "suggestion": text,
        "suggestion_en": text,
    }
    job: dict[str, Any] = {"job_id": JOB_ID + text, "state": state, "job_type": "VOICE_" + text}
    if state == "FAILED":
        job |= {"job_failed_code": "MSS." + text, "job_failed_reason": text}
    else:
        names = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")
        job["assess_result"] = dict.fromkeys(names, prop) | {"suggestion": text}
    return job


NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
"""The CLI runs take a while: a failure is reported as found, not shrunk for minutes."""
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    phases=NO_SHRINK,
)


@SETTINGS
@given(text=hostile_text, state=st.sampled_from(["SUCCEED", "FAILED", "QUEUED_\x1b[2J"]))
@example(text=NAMED_ENTRY, state="FAILED")
def test_show_and_wait_print_no_control_character_and_json_keeps_it_raw(
    hostile: Hostile, text: str, state: str
) -> None:
    hostile.job = hostile_job(text, state)
    hostile.request_id = "rid-\x9b2J-\x85".encode("latin-1")
    for command in (["show"], ["wait", "--timeout", "0"]):
        plain = cli(hostile, *command, JOB_ID, "--language", "EN")
        assert_safe(plain)
        assert plain.exit_code in (0, 3, 4), (plain.stdout, plain.stderr)
        as_json = cli(hostile, *command, JOB_ID, "--json")
        assert_safe(as_json)
        if state != "QUEUED_\x1b[2J":
            assert json.loads(as_json.stdout) == hostile.job


@pytest.mark.slow
@pytest.mark.usefixtures("unslept")
@SETTINGS
@given(text=hostile_text, status=st.sampled_from([200, 400, 401, 418, 500]))
def test_every_other_command_prints_no_control_character(
    hostile: Hostile, text: str, status: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """create, commit, upload and the error lines, with the text in every field of the answer
    (an error's code and message, a job id, the upload URL) and a hostile request id."""
    hostile.status = status
    upload_url = f"{hostile.url}/bucket/{text.encode('utf-8', 'surrogatepass').hex()}.zip"
    hostile.body = {
        "error_code": "MSS." + text,
        "error_msg": text,
        "request_id": text,
        "job_id": text,
        "data_uploading_url": upload_url,
    }
    hostile.request_id = b"rid-\x9b\xad-" + text.encode("latin-1", "ignore")[:8].replace(
        b"\r", b""
    ).replace(b"\n", b"")
    wav = tmp_path_factory.mktemp("wav") / "a.wav"
    wav.write_bytes(WAV)
    for args in (
        ("create",),
        ("create", "--json"),
        ("commit", JOB_ID),
        ("upload", upload_url, str(wav)),
        ("assess", str(wav), "--timeout", "0"),
    ):
        result = cli(hostile, *args)
        assert_safe(result)
        if args == ("create", "--json") and status == 200 and not any(map(is_unsafe, text)):
            assert json.loads(result.stdout)["job_id"] == text


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=hostile_text)
def test_conformance_prints_no_control_character(hostile: Hostile, text: str) -> None:
    hostile.job = hostile_job(text, "FAILED")
    hostile.status = 400
    hostile.body = {"error_code": text, "error_msg": text, "state": text, "job_id": text}
    hostile.request_id = b"rid-\x9b2J"
    for extra in ((), ("--json",)):
        result = cli(hostile, "conformance", "--max-jobs", "1", "--timeout", "1", *extra)
        assert_safe(result)
        assert result.exit_code == 5, (result.stdout, result.stderr)
        if extra and text and scrub(text) == text:
            findings = json.loads(result.stdout)["findings"]
            assert any(text in f["got"] for f in findings), findings


# --- the named input, through the mock --------------------------------------------------------


def test_the_zip_entry_of_issue_19_is_shown_escaped_by_show(
    mock: RunningMock, tmp_path: Path
) -> None:
    zipped = make_zip(tmp_path / "hostile.zip", {NAMED_ENTRY: b"RIFF but not a WAVE file"})
    with token_client(mock) as client:
        created = client.post(collection(mock), json={"job_type": "VOICE_ASSESS"}).json()
        assert upload(created["data_uploading_url"], zipped).status_code == 200
        assert client.post(item(mock, created["job_id"])).status_code == 200
        job = wait_final(client, mock, created["job_id"])
    assert job["state"] == "FAILED" and NAMED_ENTRY in job["job_failed_reason"]
    env = {
        "SHORT_JOBS_ENDPOINT": mock.url,
        "HUAWEICLOUD_SDK_TOKEN": mock.token,
        "HUAWEICLOUD_SDK_PROJECT_ID": mock.project_id,
    }
    shown = CliRunner().invoke(app, ["show", created["job_id"]], env=env)
    assert shown.exit_code == 0, shown.stderr
    assert "\x1b" not in shown.stdout
    failed = [line for line in shown.stdout.splitlines() if line.startswith("failed:")]
    assert len(failed) == 1
    assert "take\\x1b[2J\\x1b[32mall good\\x1b[0m\\nSUCCEED.wav" in failed[0]
    assert not any(line.startswith("SUCCEED") for line in shown.stdout.splitlines())
    as_json = CliRunner().invoke(app, ["show", created["job_id"], "--json"], env=env)
    assert "\x1b" not in as_json.stdout
    assert json.loads(as_json.stdout)["job_failed_reason"] == job["job_failed_reason"]


# --- short-jobs-mock assess -------------------------------------------------------------------

entry_name = hostile_text.map(lambda text: text.replace("/", "").replace("\x00", "") + ".wav")


@settings(max_examples=25, deadline=None, phases=NO_SHRINK)
@given(names=st.lists(entry_name, min_size=1, max_size=3, unique=True), broken=st.booleans())
@example(names=[NAMED_ENTRY], broken=True)
@example(names=[NAMED_ENTRY], broken=False)
def test_mock_assess_prints_names_escaped_and_json_keeps_them_raw(
    names: list[str], broken: bool, tmp_path_factory: pytest.TempPathFactory
) -> None:
    content = b"not a WAVE file" if broken else WAV
    try:
        zipped = make_zip(
            tmp_path_factory.mktemp("zip") / "takes.zip", dict.fromkeys(names, content)
        )
    except (UnicodeEncodeError, ValueError):
        return  # a name a zip cannot hold (a lone surrogate): nothing to print
    runner = CliRunner()
    plain = runner.invoke(assess_cli.app, [str(zipped)])
    assert_safe(plain)
    assert plain.exit_code in (0, 2, 3), (plain.stdout, plain.stderr)
    as_json = runner.invoke(assess_cli.app, [str(zipped), "--json"])
    assert_safe(as_json)
    if as_json.exit_code == 0:
        shown = {entry["name"] for entry in json.loads(as_json.stdout)["files"]}
        assert shown <= set(names) | {name.lstrip("/") for name in names}


# --- errors click itself prints (usage errors quoting an argument) ---------------------------


def _argv_can_hold(text: str) -> bool:
    """Whether `text` can be a command-line argument: no NUL (execve(2) strings end at it), and
    bytes once more (`os.fsencode`: a lone surrogate other than an undecodable byte's cannot)."""
    try:
        os.fsencode(text)
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


argument = hostile_text.filter(
    lambda text: text.strip() != "" and not text.startswith("-") and _argv_can_hold(text)
)


@settings(max_examples=30, deadline=None)
@given(text=argument)
@example(text="b\x1b[2J\u202e")  # click escapes C0 and C1 only: the bidi override came out raw
@example(text="\u2066\u2028")
def test_usage_errors_of_both_clis_show_the_argument_escaped(text: str) -> None:
    from click.testing import CliRunner as ClickRunner

    from mock_server.faces.cli import command as mock_command

    runner = CliRunner()
    for result in (
        runner.invoke(app, ["show", "a", text]),  # "Got unexpected extra argument(s) (...)"
        runner.invoke(app, [f"--{text}"]),  # "No such option"
        runner.invoke(app, ["wait", "a", "--timeout", f"x{text}"]),  # "is not a valid float"
        runner.invoke(assess_cli.app, [f"/nonexistent/{text}"]),
    ):
        assert result.exit_code == 2, (result.stdout, result.stderr)
        assert_safe(result)
    mock = ClickRunner().invoke(mock_command(), ["--port", f"x{text}"])
    assert mock.exit_code == 2, mock.output
    assert_nothing_unsafe(mock.output)


def test_the_mocks_own_errors_and_log_lines_are_escaped(tmp_path: Path) -> None:
    """A data dir's name in "cannot serve from ..." and in the startup line; any message the
    mock logs (a path a client sent, in the signature-refused debug line)."""
    import logging
    import sys

    from click.testing import CliRunner as ClickRunner

    from mock_server.faces.cli import LOG_FORMAT, command
    from mock_server.http.accesslog import CachedTimeFormatter

    hostile = "d\x1b[2J\u202e\x9b31m"
    (tmp_path / "file").write_text("")
    refused = ClickRunner().invoke(
        command(), ["--data-dir", f"{tmp_path}/file/{hostile}", "--port", "0", "--iam-port", "0"]
    )
    assert refused.exit_code == 1 and "cannot serve from" in refused.output, refused.output
    assert_nothing_unsafe(refused.output)
    formatter = CachedTimeFormatter(LOG_FORMAT)
    record = logging.LogRecord(
        "mock_server", logging.DEBUG, __file__, 1, "refused on PUT %s", (f"/b/{hostile}",), None
    )
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = formatter.format(record)
    head, _, traceback = line.partition("\n")
    assert_nothing_unsafe(head)
    assert "\\x1b[2J\\u202e\\x9b31m" in head and "Traceback" in traceback  # its lines kept
