"""The mock's settings, declared once: each field of `Settings` carries its default, type, help,
limits and environment variables, and everything else derives from that declaration:

- the command line (`cli.py` builds one click option per field: `--data-dir` for `data_dir`,
  `--control/--no-control` for a bool), with the same help and the same environment variables;
- the environment (`Settings.from_environ`, used by workers that start from an import string;
  `to_environ` is its exact inverse), parsed by the same click types as the command line;
- the validation of limits (`__post_init__`), and the options table of the docs site (docs/mock.md)
  (`options_table`, checked by a test).

Adding a setting is one line in `Settings`, e.g.::

    token_ttl: int = setting(86400, "Validity of issued tokens, seconds.", minimum=1)

which gives `--token-ttl`, `SHORT_JOBS_MOCK_TOKEN_TTL` and a row of the options table (paste the new
`options_table()` into docs/mock.md when the site is built).
"""

from __future__ import annotations

import math
import os
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cache
from pathlib import Path
from typing import Any

import click

from short_jobs.endpoints import is_region, resolve_endpoint
from short_jobs.identifiers import VISIBLE, project_id_problem

DEFAULT_AK = "MOCKACCESSKEY0000000"
DEFAULT_SK = "mock-secret-key-0000000000000000000000000"
DEFAULT_PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DEFAULT_TOKEN = "mock-token"
DEFAULT_DATA_DIR = Path(".mock-data")
DEFAULT_REGION = "cn-north-4"
DEFAULT_IAM_USER = "mock-user"
DEFAULT_IAM_PASSWORD = "mock-password-0000"
DAY_SECONDS = 24 * 60 * 60
MIB = 1024 * 1024
ENV_PREFIX = "SHORT_JOBS_MOCK_"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


Check = Callable[[str], str | None]
"""A string setting's rule: what keeps the value from being usable, or None."""


def visible(value: str) -> str | None:
    """Credentials (and the domain name, sent as a client sends it) are visible ASCII, the
    client's own rule (`short_jobs.identifiers.VISIBLE`): a client could never send another."""
    if VISIBLE.fullmatch(value):
        return None
    index, char = next((i, c) for i, c in enumerate(value) if not VISIBLE.fullmatch(c))
    return (
        f"has {char!r} at position {index + 1}: a space, control or non-ASCII character, "
        "which no client sends"
    )


def region_name(value: str) -> str | None:
    """A region is named as Huawei Cloud names them (`short_jobs.endpoints.is_region`)."""
    return None if is_region(value) else "is not a region name such as cn-north-4"


def project_id(value: str) -> str | None:
    """The client's project id rule (`short_jobs.identifiers.project_id_problem`)."""
    return project_id_problem(value)


def endpoint_url(value: str) -> str | None:
    """A base the clients can be given as their endpoint: an http(s) URL the client's own
    `short_jobs.endpoints.resolve_endpoint` accepts (a region name is not a URL here)."""
    if is_region(value.strip()):
        return "is a region name, not a URL: give the http(s) URL clients reach the mock at"
    try:
        resolve_endpoint(value)
    except ValueError as exc:
        return f"is not an endpoint a client can use ({exc})"
    return None


@dataclass(frozen=True)
class SettingDoc:
    """What a field declares besides its type and default (kept in the field's metadata)."""

    help: str
    env: tuple[str, ...] = ()  # variables read after SHORT_JOBS_MOCK_<NAME>, in this order
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    shown_default: str | None = None  # how docs show the default, when not just its value
    check: Check | None = None  # a string's rule, beyond its type


def setting(
    default: Any,
    help: str,
    *,
    env: Sequence[str] = (),
    minimum: float | None = None,
    choices: Sequence[str] = (),
    shown_default: str | None = None,
    check: Check | None = None,
) -> Any:
    """A `Settings` field: its default and everything the CLI, environment and docs need."""
    doc = SettingDoc(help, tuple(env), minimum, tuple(choices), shown_default, check)
    return field(default=default, metadata={"setting": doc})


@dataclass(frozen=True)
class Settings:
    host: str = setting("127.0.0.1", "Address to listen on.")
    port: int = setting(8000, "Port to listen on (0: any free port).", minimum=0)
    data_dir: Path = setting(
        DEFAULT_DATA_DIR, "Where the SQLite store (jobs.sqlite3) and the uploads live."
    )
    ak: str = setting(
        DEFAULT_AK, "The access key it accepts.", env=["HUAWEICLOUD_SDK_AK"], check=visible
    )
    sk: str = setting(DEFAULT_SK, "Its secret key.", env=["HUAWEICLOUD_SDK_SK"], check=visible)
    project_id: str = setting(
        DEFAULT_PROJECT_ID,
        "The one project the credentials are for.",
        env=["HUAWEICLOUD_SDK_PROJECT_ID"],
        check=project_id,
    )
    token: str = setting(DEFAULT_TOKEN, "The X-Auth-Token value it accepts.", check=visible)
    # IAM (mock_server/iam): the project's region, the one user, and how long tokens live
    region: str = setting(
        DEFAULT_REGION,
        "The project's region: its name in IAM (GET /v3/projects?name=REGION).",
        check=region_name,
    )
    iam_port: int | None = setting(
        None,
        "Port of the IAM endpoint (see the docs, IAM).",
        minimum=0,
        shown_default="`--port` + 1 (any free port when `--port` is 0)",
    )
    iam_user: str = setting(DEFAULT_IAM_USER, "The IAM user tokens are issued to.")
    iam_password: str = setting(DEFAULT_IAM_PASSWORD, "Its password.")
    iam_domain: str | None = setting(
        None,
        "The user's domain (account) name, when it must be checked.",
        shown_default="any domain name",
        check=visible,
    )
    token_ttl: int = setting(
        DAY_SECONDS, "How long issued IAM tokens are valid, seconds.", minimum=1
    )
    processing_seconds: float = setting(
        2.0, "How long a committed job takes (fractions and 0 allowed).", minimum=0
    )
    assessment_wait_seconds: float = setting(
        30.0,
        "How long the show (polls:N) or advance due to move a job to its outcome waits for"
        " the job's assessment, seconds (then 500 MSS.00000004 saying so).",
        minimum=0,
    )
    upload_url_ttl: int = setting(3600, "Upload URL validity, seconds.", minimum=1)
    max_upload_bytes: int = setting(
        512 * MIB,
        "Largest accepted upload, bytes.",
        minimum=1,
        shown_default="`536870912` (512 MiB)",
    )
    public_url: str | None = setting(
        None,
        "Base of upload URLs, when behind a proxy.",
        shown_default="the request's own host",
        check=endpoint_url,
    )
    ready_file: Path | None = setting(
        None,
        "Once the mock answers, write its addresses (API, IAM, docs...) here as JSON, for a "
        "script to wait on (see the docs, CI).",
        shown_default="none",
    )
    workers: int = setting(
        1,
        "Worker processes sharing the store (more than 1: gunicorn supervises them).",
        minimum=1,
    )
    control: bool = setting(
        False,
        "Serve the /_mock/ control plane (for tests: see the docs, testing with the mock).",
        shown_default="off",
    )
    validate_responses: bool = setting(
        False, "Check every response against the spec (on in the tests).", shown_default="off"
    )
    log_requests: bool = setting(True, "Log one line per request.", shown_default="on")
    log_level: str = setting("info", "Logging level.", choices=LOG_LEVELS)
    allowed_hosts: str = setting(
        "",
        "More Host names the control plane and dashboard answer, comma-separated (e.g. mock "
        "under docker compose); matched exactly, any port.",
        shown_default="none: the served address, loopback and `localhost`",
    )
    fast_lane: bool = setting(
        True,
        "Answer create and show through the fast lane (same answers, less CPU).",
        shown_default="on",
    )

    def __post_init__(self) -> None:
        for name, doc in _docs().items():
            value = getattr(self, name)
            if value is None:  # an optional setting left unset
                continue
            if doc.minimum is not None and value < doc.minimum:
                raise ValueError(f"{name} must be >= {doc.minimum:g}, got {value!r}")
            if doc.choices and value not in doc.choices:
                raise ValueError(f"{name} must be one of {', '.join(doc.choices)}, got {value!r}")
            problem = value_problem(name, value)
            if problem:
                raise ValueError(f"{name} {problem}")  # unrepeated: it may be a secret

    @property
    def iam_listen_port(self) -> int:
        """The IAM endpoint's port: --iam-port, else the next one after --port (0 stays 0)."""
        if self.iam_port is not None:
            return self.iam_port
        return self.port + 1 if self.port else 0

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_environ(self) -> dict[str, str]:
        """SHORT_JOBS_MOCK_* variables that `from_environ` reads back as these settings."""
        return {
            env_name(name): str(getattr(self, name))
            for name in _docs()
            if getattr(self, name) is not None
        }

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from SHORT_JOBS_MOCK_* variables, then the official SDK's variables (the
        first set and non-empty one of `env_names(field)`), parsed as the command line parses
        them; click.BadParameter for a value it would refuse."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in _docs():
            raw = next((env[var] for var in env_names(name) if env.get(var)), None)
            if raw is not None:
                values[name] = click_type(name).convert(raw, None, None)
        return cls(**values)


def env_name(field_name: str) -> str:
    return f"{ENV_PREFIX}{field_name.upper()}"


def env_names(field_name: str) -> list[str]:
    """Every variable a setting is read from, in order of precedence."""
    return [env_name(field_name), *_docs()[field_name].env]


def option_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


@cache
def _docs() -> dict[str, SettingDoc]:
    docs = {}
    for each in fields(Settings):
        if "setting" not in each.metadata:
            raise TypeError(
                f"Settings.{each.name} must be declared with setting(default, help, ...): "
                "the CLI, the environment and the docs are made from it"
            )
        docs[each.name] = each.metadata["setting"]
    return docs


def setting_docs() -> dict[str, SettingDoc]:
    """Field name -> its declaration, in declaration order."""
    return dict(_docs())


@cache
def value_type(field_name: str) -> type:
    """The field's type without `| None` (str, int, float, bool or Path)."""
    kind = typing.get_type_hints(Settings)[field_name]
    if isinstance(kind, types.UnionType):
        kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
    assert isinstance(kind, type)
    return kind


def value_problem(field_name: str, value: Any) -> str | None:
    """What keeps a setting's value (of its type, within its limits) from being one a client
    could use, or None: a float that is not finite (`nan` passes every `>=` limit, `inf` never
    ends a wait), or a string its declared `check` refuses. The command line, the environment
    and `Settings(...)` all ask here, so the rule is stated once."""
    if isinstance(value, float) and not math.isfinite(value):
        return "is not a finite number of seconds"
    check = _docs()[field_name].check
    return check(value) if check and isinstance(value, str) else None


class _FiniteFloatRange(click.FloatRange):
    """`click.FloatRange`, refusing `nan` and `inf` too (see `value_problem`)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        converted = super().convert(value, param, ctx)
        if not math.isfinite(converted):
            self.fail(f"{converted!r} is not a finite number", param, ctx)
        return converted


class _CheckedString(click.types.StringParamType):
    """`click.STRING`, refusing what the field's `check` refuses (see `value_problem`)."""

    def __init__(self, check: Check) -> None:
        self.check = check

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        converted = super().convert(value, param, ctx)
        problem = self.check(converted)
        if problem:
            # The value is not repeated: it may be a secret (--sk reads HUAWEICLOUD_SDK_SK).
            self.fail(f"it {problem}", param, ctx)
        return converted


def click_type(field_name: str) -> click.ParamType[Any]:
    """How the command line and the environment parse this setting: click reports a value it
    refuses as "Invalid value for '--option' (env var: ...)", exit status 2."""
    doc, kind = _docs()[field_name], value_type(field_name)
    if doc.choices:
        return click.Choice(doc.choices, case_sensitive=False)
    if kind is bool:
        return click.BOOL
    if kind is int:
        return click.IntRange(min=None if doc.minimum is None else int(doc.minimum))
    if kind is float:
        return _FiniteFloatRange(min=doc.minimum)
    if kind is Path:
        return click.Path(path_type=Path)
    return _CheckedString(doc.check) if doc.check else click.STRING


def default(field_name: str) -> Any:
    return next(f.default for f in fields(Settings) if f.name == field_name)


def options_table() -> str:
    """The README's table of options, made from the declaration."""
    lines = [
        "| option | environment variable | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, doc in _docs().items():
        option = option_name(name)
        if value_type(name) is bool:
            option = f"{option}/--no-{option[2:]}"
        variables = ", ".join(f"`{var}`" for var in env_names(name))
        shown = doc.shown_default or f"`{default(name)}`"
        lines.append(f"| `{option}` | {variables} | {shown} | {doc.help} |")
    return "\n".join(lines) + "\n"


KEEP_ALIVE_SECONDS = 75
"""Seconds an idle keep-alive connection stays open, in every way the mock is served (one
process, gunicorn's workers, the fixture's in-process server). Longer than the idle expiry of the
client pools that talk to it (httpx: 5 s, which equalled uvicorn's default 5 s): a client then
never sends a request on a connection the server is closing at that moment (the keep-alive race,
RFC 9112 section 9.8; nginx's default keepalive_timeout is 75 s for the same reason)."""
