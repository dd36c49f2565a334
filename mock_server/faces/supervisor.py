"""`--workers N` (N > 1): gunicorn supervises N uvicorn workers that share one SQLite store.

gunicorn's arbiter binds the sockets (the API's and IAM's addresses), preloads the app (imports
connexion, reads the spec, builds the application and creates the store's schema once, before
any fork) and forks the workers, so a worker serves within milliseconds of its fork. What it
does when things go wrong, as gunicorn documents it:

- a worker that exits after it booted (crash, OOM kill, `kill -9`) is replaced by a new fork,
  unless workers keep exiting: more than `MAX_EXITS` (or twice the workers) exits within
  `EXITS_WINDOW_SECONDS` halt the arbiter with exit status 1 (`crash_loop_guard`, on gunicorn's
  documented `child_exit` server hook; gunicorn alone would fork them forever);
- a worker that fails to *boot* (its lifespan startup fails, say) exits with gunicorn's
  WORKER_BOOT_ERROR and the arbiter then stops every worker and exits with status 3 ("Worker
  failed to boot"): a worker that cannot start is never forked again and again;
- an app that cannot be built (a data dir that is a file...) fails in the arbiter, before any
  fork: the command exits with status 1 and one line on stderr;
- SIGTERM or SIGINT stop the workers gracefully (`graceful_timeout`), then the arbiter;
- a worker whose arbiter is gone, even by `kill -9`, notices within `PARENT_CHECK_SECONDS` (it
  compares its parent's pid with the arbiter's, as gunicorn's own workers do) and exits.

gunicorn binds nothing itself: it serves the sockets `listen.py` bound (its documented `fd://FD`
addresses, in `bind`'s order: the API's, then IAM's), so an address that cannot be bound is said
the same way as with one process (one line, exit status 3), and the ports, a port 0 included,
are known before the app is built. With `--ready-file`, each worker hands its start to the
`ReadyReporter` (ready.py), which writes the file once every worker serves.

The SQLite connection the arbiter used to build the app is closed before the fork: every worker
opens its own (`Store` reopens lazily), as SQLite requires across fork().
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.errors import HaltServer
from uvicorn_worker import UvicornWorker

from mock_server.core.asgi import ASGIApp
from mock_server.core.config import KEEP_ALIVE_SECONDS, Settings
from mock_server.faces.listen import Listeners, listen
from mock_server.faces.protocol import PROTOCOL
from mock_server.faces.ready import ReadyReporter

log = logging.getLogger("mock_server.supervisor")

# How often a worker tells the arbiter it is alive and checks that the arbiter still is.
PARENT_CHECK_SECONDS = 1.0
# How long the workers get to finish their requests on SIGTERM.
GRACEFUL_SECONDS = 10


class MockWorker(UvicornWorker):  # type: ignore[misc]
    """uvicorn's worker for gunicorn, configured as the mock runs (its own one-line access log,
    the lifespan that starts the assessment worker), and exiting when its arbiter is gone."""

    CONFIG_KWARGS: dict[str, Any] = {  # noqa: RUF012  (uvicorn-worker's documented hook)
        "loop": "auto",
        "http": PROTOCOL,  # uvicorn's "auto", each answer in one write (protocol.py)
        "lifespan": "on",
        "access_log": False,
        "timeout_notify": PARENT_CHECK_SECONDS,
    }

    async def callback_notify(self) -> None:
        """uvicorn calls this right after startup, then every `timeout_notify` seconds."""
        reporter = getattr(self.app, "reporter", None)  # self.app: the Supervisor below
        if reporter is not None:
            await reporter()
        if os.getppid() != self.ppid:
            log.warning("worker %d: the arbiter (pid %d) is gone; exiting", os.getpid(), self.ppid)
            self.alive = False
            os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's own graceful shutdown
            return
        self.notify()


# A worker crash loop: more exits than this (or twice the workers, if more) within the window
# stop the server.
MAX_EXITS = 5
EXITS_WINDOW_SECONDS = 10.0
CRASH_LOOP_STATUS = 1


def crash_loop_guard(
    limit: int = MAX_EXITS, window: float = EXITS_WINDOW_SECONDS
) -> Callable[[Any, Any], None]:
    """gunicorn's `child_exit(server, worker)` hook: halts the arbiter (HaltServer, the way
    gunicorn halts on a boot error) once more than `limit` workers exited within `window`
    seconds, instead of replacing them forever."""
    exits: deque[float] = deque()

    def child_exit(server: Any, worker: Any) -> None:
        if not server.LISTENERS:  # stopping: gunicorn closes its sockets first, then reaps
            return
        now = time.monotonic()
        exits.append(now)
        while exits and now - exits[0] > window:
            exits.popleft()
        if len(exits) > limit:
            raise HaltServer(
                f"workers keep exiting ({len(exits)} in {window:g} s; the last was pid "
                f"{worker.pid}): see the errors above",
                CRASH_LOOP_STATUS,
            )

    return child_exit


class Supervisor(BaseApplication):  # type: ignore[misc]
    """gunicorn's documented "custom application": its settings come from `Settings`, not from
    gunicorn's command line, config file or GUNICORN_CMD_ARGS."""

    def __init__(
        self,
        settings: Settings,
        app: ASGIApp,
        listeners: Listeners,
        reporter: ReadyReporter | None = None,
    ) -> None:
        self.settings = settings
        self.app = app
        # gunicorn closes the sockets it serves when it stops: it gets duplicates of its own,
        # and `listeners` stay the caller's to close
        self.fds = [os.dup(sock.fileno()) for sock in listeners.sockets]
        self.reporter = reporter
        super().__init__()

    def gunicorn_settings(self) -> dict[str, Any]:
        level = self.settings.log_level
        chosen: dict[str, Any] = {
            # gunicorn's documented form for sockets bound already; API first, IAM second
            "bind": [f"fd://{fd}" for fd in self.fds],
            "workers": self.settings.workers,
            "worker_class": f"{MockWorker.__module__}.{MockWorker.__name__}",
            "preload_app": True,
            "graceful_timeout": GRACEFUL_SECONDS,
            "keepalive": KEEP_ALIVE_SECONDS,
            "child_exit": crash_loop_guard(max(MAX_EXITS, 2 * self.settings.workers)),
            "proc_name": "short-jobs-mock",
            "loglevel": "debug" if level == "trace" else level,
            "errorlog": "-",
            "accesslog": None,  # the app logs one line per request itself
            # gunicorn >= 25.1 would otherwise open ~/.gunicorn/gunicorn.ctl, shared by every
            # mock on the machine
            "control_socket_disable": True,
        }
        return {key: value for key, value in chosen.items() if key in self.cfg.settings}

    def load_config(self) -> None:
        for key, value in self.gunicorn_settings().items():
            self.cfg.set(key, value)

    def load(self) -> ASGIApp:
        """The app, built by the caller in this process (the arbiter): the preload."""
        return self.app


def supervise(
    settings: Settings,
    app: ASGIApp,
    listeners: Listeners | None = None,
    reporter: ReadyReporter | None = None,
) -> None:
    """Serve `app`, built in this process, with `settings.workers` worker processes until
    stopped (see the module's doc), on `listeners` (bound from `settings` when None: the ports
    must then be the ones the app was built for, or 0 for IAM's only if the app ignores it)."""
    if listeners is None:
        listeners = listen(settings)
    # no SQLite connection may cross the fork: each worker opens its own
    service = getattr(app, "service", None)
    if service is not None:
        service.store.close()
    try:
        Supervisor(settings, app, listeners, reporter).run()
    except HaltServer as halt:
        # gunicorn's halt() stops the other workers (SIGTERM sent) and reaps them; when one of
        # them failed to boot as well, the reaping raises HaltServer again instead of exiting.
        # The verdict is the same: exit with its status, as the first halt would have.
        log.error("stopped: %s", halt.reason)
        raise SystemExit(halt.exit_status) from None
