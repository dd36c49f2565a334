"""The mock's startup line and its addresses: where it is, what it accepts, and where to look.

    short-jobs mock: API http://127.0.0.1:8000 | IAM http://127.0.0.1:8001
    (HUAWEICLOUD_SDK_IAM_ENDPOINT) | docs http://127.0.0.1:8000/ui/, contract
    http://127.0.0.1:8000/openapi.json | control plane off (--control turns it on) | data dir
    /work/.mock-data | AK MOCKACCESSKEY0000000, project 0a1b2c3d4e5f60718293a4b5c6d7e8f9

(one line), logged once the addresses are bound, so every port in it is the real one (`--port 0`
included). The secret key and the token are never printed. `urls` is the one place the
addresses are made: the line and the ready file (ready.py) both take them from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from mock_server.core.config import Settings
from mock_server.http.docs import SPEC_JSON, UI_PATH, swagger_ui_dir
from mock_server.http.routing import CONTROL_PREFIX
from mock_server.pages.dashboard import DASHBOARD_PATH

# A wildcard address is where the mock listens, not where a client connects: the loopback
# address of the same family is (what curl and browsers reach it at on this machine).
_WILDCARDS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def reachable_host(host: str) -> str:
    """The host a client on this machine connects to for `--host` (wildcards: loopback)."""
    return _WILDCARDS.get(host, host)


def _url(host: str, port: int) -> str:
    host = reachable_host(host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass(frozen=True)
class Urls:
    """Every address of a mock whose ports are bound. `api` is `--public-url` when set (where
    users reach it, behind a proxy); `listen` is always the API's own address on this machine.
    `docs` is None without Swagger UI installed, `control` and `dashboard` without `--control`."""

    api: str
    iam: str
    contract: str
    docs: str | None
    control: str | None
    dashboard: str | None
    listen: str


def urls(settings: Settings) -> Urls:
    """The addresses of a mock serving `settings`, whose ports must be the bound ones (a 0 is
    no address: ValueError)."""
    if settings.port == 0 or settings.iam_listen_port == 0:
        raise ValueError("the addresses need the ports really bound (not 0): see listen.py")
    listen = _url(settings.host, settings.port)
    api = settings.public_url.rstrip("/") if settings.public_url else listen
    return Urls(
        api=api,
        iam=_url(settings.host, settings.iam_listen_port),
        contract=f"{api}{SPEC_JSON}",
        docs=f"{api}{UI_PATH}" if swagger_ui_dir() is not None else None,
        control=f"{api}{CONTROL_PREFIX}/" if settings.control else None,
        dashboard=f"{api}{DASHBOARD_PATH}" if settings.control else None,
        listen=listen,
    )


def base_url(settings: Settings) -> str:
    """Where users reach the mock: `--public-url`, else the address it listens on."""
    return urls(settings).api


def startup_line(settings: Settings) -> str:
    """The one startup line (the module's doc) for a mock whose ports are bound."""
    found = urls(settings)
    if found.control is not None:
        control = f"control plane on: {found.control}, dashboard {found.dashboard}"
    else:
        control = "control plane off (--control turns it on)"
    if found.docs is not None:
        docs = f"docs {found.docs}, contract {found.contract}"
    else:
        docs = f"contract {found.contract} (docs page: pip install 'connexion[swagger-ui]')"
    parts = [
        f"short-jobs mock: API {found.api}",
        f"IAM {found.iam} (HUAWEICLOUD_SDK_IAM_ENDPOINT)",
        docs,
        control,
        f"data dir {settings.data_dir.resolve()}",
        f"AK {settings.ak}, project {settings.project_id}",
    ]
    return " | ".join(parts)
