"""The mock's two listening sockets, the API's and IAM's, bound before anything else starts.

Both ways of serving (one uvicorn process; gunicorn's workers, which take these sockets as
`fd://N`) serve the sockets bound here, so an address that cannot be bound is found in one place
and said in one way: one line naming the address, the port and the option (and its variable)
that set it, and exit status 3 (`CannotListen`). The family, by what the OS answers:

- EADDRINUSE: the port is taken (by another program, or IAM's port equal to the API's);
- EACCES: no permission for the port (below 1024 without the privilege);
- EADDRNOTAVAIL: `--host` is no address of this machine;
- EAFNOSUPPORT: an IPv6 `--host` on a machine without IPv6;
- a name `--host` cannot resolve (socket.gaierror);
- a port outside 0-65535 (`--port 65535` puts IAM's default port, `--port` + 1, out of range);
- anything else: the OS's own words, with the address and the option.

The sockets are bound as uvicorn binds them (IPv6 when the host has a colon, SO_REUSEADDR, so a
port left in TIME_WAIT by a mock that just stopped can be bound again) and listen at once:
a client that connects between the startup line and the first served request waits in the
backlog instead of being refused.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

import click

from mock_server.core.config import Settings, env_name, option_name

CANNOT_LISTEN_STATUS = 3
MAX_PORT = 65535
BACKLOG = 2048  # uvicorn's default


class CannotListen(click.ClickException):
    """One of the mock's addresses cannot be bound: one line on stderr, exit status 3."""

    exit_code = CANNOT_LISTEN_STATUS


@dataclass(frozen=True)
class Address:
    """One address to listen on: whose it is ("API" or "IAM"), host, port, and what set it."""

    role: str
    host: str
    port: int
    option: str  # e.g. "--iam-port (SHORT_JOBS_MOCK_IAM_PORT)"


def _named(field_name: str) -> str:
    return f"{option_name(field_name)} ({env_name(field_name)})"


def addresses(settings: Settings) -> tuple[Address, Address]:
    """The API's address (`--port`) and IAM's (`--iam-port`, else `--port` + 1, else any)."""
    api = Address("API", settings.host, settings.port, _named("port"))
    if settings.iam_port is not None:
        iam_option = _named("iam_port")
    else:
        iam_option = f"{_named('port')} + 1, IAM's default; {option_name('iam_port')} sets its own"
    return api, Address("IAM", settings.host, settings.iam_listen_port, iam_option)


def problem(address: Address, error: OSError | OverflowError) -> str:
    """The one line for an address that cannot be bound, naming the port and its option."""
    where = f"{address.role} port {address.port} on {address.host or 'every address'}"
    host = _named("host")
    if isinstance(error, socket.gaierror):
        return (
            f"cannot listen for the {address.role}: {host} {address.host!r} is no address "
            f"this machine can resolve ({error.strerror or error})"
        )
    if isinstance(error, OverflowError) or not 0 <= address.port <= MAX_PORT:
        return (
            f"cannot listen for the {address.role}: port {address.port} is outside 0-{MAX_PORT} "
            f"(set by {address.option})"
        )
    code = error.errno
    if code == errno.EADDRINUSE:
        return (
            f"{where} is already in use (set by {address.option}): stop what holds it or "
            "choose another port"
        )
    if code == errno.EACCES:
        privileged = " (ports below 1024 need privileges)" if address.port < 1024 else ""
        return f"{where}: permission denied{privileged} (set by {address.option})"
    if code == errno.EADDRNOTAVAIL:
        return (
            f"cannot listen for the {address.role} on {address.host}: {host} is no address of "
            f"this machine (port {address.port}, set by {address.option})"
        )
    if code == errno.EAFNOSUPPORT:
        return (
            f"cannot listen for the {address.role} on {address.host}: this machine has no IPv6 "
            f"({host}; port {address.port}, set by {address.option})"
        )
    return f"cannot listen on {where} (set by {address.option}): {error.strerror or error}"


def bind(address: Address) -> socket.socket:
    """A socket bound to `address` and listening; OSError or OverflowError as the OS says."""
    if not 0 <= address.port <= MAX_PORT:
        raise OverflowError(f"port {address.port} is outside 0-{MAX_PORT}")
    family = socket.AF_INET6 if ":" in address.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address.host, address.port))
        sock.listen(BACKLOG)
        sock.set_inheritable(True)  # uvicorn's spawned workers (no fork) get it through exec
    except BaseException:
        sock.close()
        raise
    return sock


@dataclass(frozen=True)
class Listeners:
    """The bound sockets: the API's first, then IAM's (the order gunicorn's `bind` keeps)."""

    api: socket.socket
    iam: socket.socket

    @property
    def sockets(self) -> list[socket.socket]:
        return [self.api, self.iam]

    @property
    def ports(self) -> tuple[int, int]:
        return self.api.getsockname()[1], self.iam.getsockname()[1]

    def bound_settings(self, settings: Settings) -> Settings:
        """`settings` with the ports really bound (a 0 becomes the port the OS chose)."""
        api_port, iam_port = self.ports
        return settings.with_overrides(port=api_port, iam_port=iam_port)

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


def listen(settings: Settings) -> Listeners:
    """Bind the API's address, then IAM's; CannotListen (exit 3) naming the one that failed."""
    api, iam = addresses(settings)
    if api.port and api.port == iam.port:
        raise CannotListen(
            f"IAM port {iam.port} is the API's port too (set by {iam.option} and "
            f"{api.option}): give IAM a port of its own"
        )
    bound: list[socket.socket] = []
    try:
        for address in (api, iam):
            try:
                bound.append(bind(address))
            except (OSError, OverflowError) as error:
                raise CannotListen(problem(address, error)) from error
    except CannotListen:
        for sock in bound:
            sock.close()
        raise
    return Listeners(*bound)
