"""An address the mock cannot listen on: one line naming the port and the option that set it,
exit status 3, whichever address (the API's, IAM's) and however many workers.

The family (mock_server/faces/listen.py): a port in use, no permission, a --host that is no
address of this machine or no name it resolves, a port out of range, IAM's port equal to the
API's. Real sockets throughout; the errno the OS gives is the kind.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import free_port
from hypothesis import example, given
from hypothesis import strategies as st

from mock_server.core.config import Settings
from mock_server.faces.listen import (
    CANNOT_LISTEN_STATUS,
    Address,
    CannotListen,
    addresses,
    listen,
    problem,
)


@contextmanager
def held_port() -> Iterator[int]:
    """A port some other program listens on, on 127.0.0.1, while the block runs; the port
    before it is free and no other test's (ports.free_port reserves the pair)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", free_port() + 1))
        other.listen()
        yield other.getsockname()[1]


def _refusal(settings: Settings) -> str:
    with pytest.raises(CannotListen) as refused:
        listen(settings).close()
    assert refused.value.exit_code == CANNOT_LISTEN_STATUS
    message = refused.value.message
    assert "\n" not in message
    return message


KINDS = [
    OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE)),
    OSError(errno.EACCES, os.strerror(errno.EACCES)),
    OSError(errno.EADDRNOTAVAIL, os.strerror(errno.EADDRNOTAVAIL)),
    OSError(errno.EAFNOSUPPORT, os.strerror(errno.EAFNOSUPPORT)),
    OSError(errno.ENOBUFS, os.strerror(errno.ENOBUFS)),  # any other: the OS's words
    socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
]


@given(
    error=st.sampled_from(KINDS),
    role=st.sampled_from(["API", "IAM"]),
    port=st.integers(0, 65534),  # IAM's default, --port + 1, in range (out of range: below)
    host=st.sampled_from(["127.0.0.1", "::1", "10.9.9.9", "nonexist.invalid", "0.0.0.0"]),
    iam_port_given=st.booleans(),
)
@example(KINDS[0], "IAM", 8001, "127.0.0.1", False)  # the issue's: IAM's --port + 1 was taken
def test_every_kind_is_one_line_naming_the_address_and_what_set_it(
    error: OSError, role: str, port: int, host: str, iam_port_given: bool
) -> None:
    settings = Settings(host=host, port=port, iam_port=port if iam_port_given else None)
    api, iam = addresses(settings)
    address = api if role == "API" else iam
    line = problem(address, error)
    assert "\n" not in line and role in line
    if isinstance(error, socket.gaierror) or error.errno in (
        errno.EADDRNOTAVAIL,
        errno.EAFNOSUPPORT,
    ):
        assert "--host (SHORT_JOBS_MOCK_HOST)" in line and host in line
    if not isinstance(error, socket.gaierror):
        assert f"port {address.port}" in line and address.option in line
        expected_option = "--iam-port" if role == "IAM" and iam_port_given else "--port"
        assert expected_option in line
    if error.errno not in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
        assert str(error.strerror) in line


@given(port=st.integers(65536, 10**6), role=st.sampled_from(["API", "IAM"]))
def test_a_port_out_of_range_is_said_as_such(port: int, role: str) -> None:
    line = problem(
        Address(role, "127.0.0.1", port, "--port (SHORT_JOBS_MOCK_PORT)"), OverflowError()
    )
    assert f"port {port} is outside 0-65535" in line and "--port" in line


def test_the_api_port_in_use_names_it_and_port() -> None:
    with held_port() as port:
        message = _refusal(Settings(port=port, iam_port=0))
    assert message.startswith(f"API port {port} on 127.0.0.1 is already in use")
    assert "--port (SHORT_JOBS_MOCK_PORT)" in message


def test_iams_default_port_in_use_says_it_is_port_plus_one() -> None:
    """The issue's case: a bare `[Errno 98]`, and the port was IAM's, `--port` + 1."""
    with held_port() as taken:
        message = _refusal(Settings(port=taken - 1))
    assert message.startswith(f"IAM port {taken} on 127.0.0.1 is already in use")
    assert "--port (SHORT_JOBS_MOCK_PORT) + 1" in message and "--iam-port" in message


def test_iams_own_port_in_use_names_iam_port() -> None:
    with held_port() as taken:
        message = _refusal(Settings(port=0, iam_port=taken))
    assert f"IAM port {taken}" in message and "--iam-port (SHORT_JOBS_MOCK_IAM_PORT)" in message


def test_iam_on_the_apis_port_is_refused_before_binding() -> None:
    port = free_port()
    message = _refusal(Settings(port=port, iam_port=port))
    assert f"IAM port {port} is the API's port too" in message


def test_a_host_that_is_not_this_machines() -> None:
    message = _refusal(Settings(host="192.0.2.1", port=0))  # TEST-NET-1: never local
    assert "192.0.2.1" in message and "no address of this machine" in message


def test_a_host_no_one_can_resolve() -> None:
    message = _refusal(Settings(host="nonexist.invalid", port=0))
    assert "'nonexist.invalid' is no address this machine can resolve" in message


def test_port_65535_puts_iams_default_out_of_range() -> None:
    message = _refusal(Settings(port=65535))
    assert message.startswith("cannot listen for the IAM: port 65536 is outside 0-65535")


def _privileged_ports_refused() -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 1))
        except PermissionError:
            return True
        except OSError:
            return False
    return False


@pytest.mark.skipif(not _privileged_ports_refused(), reason="this user may bind ports below 1024")
def test_a_privileged_port_without_the_privilege() -> None:
    message = _refusal(Settings(port=1, iam_port=0))
    assert "API port 1 on 127.0.0.1: permission denied (ports below 1024" in message


def test_a_refusal_leaves_no_socket_bound() -> None:
    """The API's socket, bound before IAM's failed, is closed again: its port is free."""
    with held_port() as taken:
        _refusal(Settings(port=taken - 1))
        with socket.socket() as again:
            again.bind(("127.0.0.1", taken - 1))


def _run(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHORT_JOBS_MOCK_")}
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "--data-dir", str(tmp_path / "data"), *options],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("whose", ["API", "IAM"])
def test_the_command_ends_with_one_line_and_status_3(
    tmp_path: Path, workers: str, whose: str
) -> None:
    with held_port() as taken:
        port = taken if whose == "API" else taken - 1
        result = _run(tmp_path, "--port", str(port), "--workers", workers)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.splitlines()
    assert lines == [lines[-1]], result.stderr  # nothing else: no startup line, no traceback
    assert lines[0].startswith(f"Error: {whose} port {taken} on 127.0.0.1 is already in use")


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_bad_host_ends_the_command_the_same_way(tmp_path: Path, workers: str) -> None:
    result = _run(tmp_path, "--host", "192.0.2.1", "--port", "0", "--workers", workers)
    assert result.returncode == 3, result.stderr
    assert result.stderr.count("\n") == 1 and "--host (SHORT_JOBS_MOCK_HOST)" in result.stderr
