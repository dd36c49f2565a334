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

The ports really bound (a port 0 is any free one) are handed to a `bound` callback from gunicorn's
documented `when_ready` server hook, which runs in the arbiter after binding and before any fork.

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
from mock_server.core.config import Settings

log = logging.getLogger("mock_server.supervisor")

# How often a worker tells the arbiter it is alive and checks that the arbiter still is.
PARENT_CHECK_SECONDS = 1.0
# How long the workers get to finish their requests on SIGTERM.
GRACEFUL_SECONDS = 10
# Idle keep-alive connections are closed after this long: uvicorn's default, as with one
# process (gunicorn's own default, 2 s, made clients that pool connections meet closed ones).
KEEP_ALIVE_SECONDS = 5


class MockWorker(UvicornWorker):  # type: ignore[misc]
    """uvicorn's worker for gunicorn, configured as the mock runs (its own one-line access log,
    the lifespan that starts the assessment worker), and exiting when its arbiter is gone."""

    CONFIG_KWARGS: dict[str, Any] = {  # noqa: RUF012  (uvicorn-worker's documented hook)
        "loop": "auto",
        "http": "auto",
        "lifespan": "on",
        "access_log": False,
        "timeout_notify": PARENT_CHECK_SECONDS,
    }

    async def callback_notify(self) -> None:
        """uvicorn calls this every `timeout_notify` seconds."""
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
        self, settings: Settings, app: ASGIApp, bound: Callable[[list[int]], None] | None = None
    ) -> None:
        self.settings = settings
        self.app = app
        self.bound = bound
        super().__init__()

    def gunicorn_settings(self) -> dict[str, Any]:
        host = self.settings.host
        address = f"[{host}]" if ":" in host else host
        ports = (self.settings.port, self.settings.iam_listen_port)
        level = self.settings.log_level
        chosen: dict[str, Any] = {
            "bind": [f"{address}:{port}" for port in ports],
            "when_ready": self._when_ready,
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

    def _when_ready(self, server: Any) -> None:
        """gunicorn's `when_ready(server)`: its listeners are in `bind`'s order."""
        if self.bound is not None:
            self.bound([listener.getsockname()[1] for listener in server.LISTENERS])

    def load_config(self) -> None:
        for key, value in self.gunicorn_settings().items():
            self.cfg.set(key, value)

    def load(self) -> ASGIApp:
        """The app, built by the caller in this process (the arbiter): the preload."""
        return self.app


def supervise(
    settings: Settings, app: ASGIApp, bound: Callable[[list[int]], None] | None = None
) -> None:
    """Serve `app`, built in this process, with `settings.workers` worker processes until
    stopped (see the module's doc); `bound` gets the ports bound (API, IAM), before any fork."""
    # no SQLite connection may cross the fork: each worker opens its own
    service = getattr(app, "service", None)
    if service is not None:
        service.store.close()
    try:
        Supervisor(settings, app, bound).run()
    except HaltServer as halt:
        # gunicorn's halt() stops the other workers (SIGTERM sent) and reaps them; when one of
        # them failed to boot as well, the reaping raises HaltServer again instead of exiting.
        # The verdict is the same: exit with its status, as the first halt would have.
        log.error("stopped: %s", halt.reason)
        raise SystemExit(halt.exit_status) from None
