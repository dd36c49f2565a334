"""The mock's startup line: where it is, what it accepts, and where to look.

    short-jobs mock: http://127.0.0.1:8000 | data dir /work/.mock-data | AK MOCKACCESSKEY0000000,
    project 0a1b2c3d4e5f60718293a4b5c6d7e8f9 | control plane on: http://127.0.0.1:8000/_mock/,
    dashboard http://127.0.0.1:8000/_mock/ui/ | docs http://127.0.0.1:8000/ui/,
    contract http://127.0.0.1:8000/openapi.json

(one line). The secret key and the token are never printed.
"""

from __future__ import annotations

from mock_server.core.config import Settings
from mock_server.http.docs import SPEC_JSON, UI_PATH, swagger_ui_dir
from mock_server.http.routing import CONTROL_PREFIX
from mock_server.pages.dashboard import DASHBOARD_PATH


def base_url(settings: Settings) -> str:
    """Where users reach the mock: `--public-url`, else the address it listens on."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    port = settings.port if settings.port else "PORT"  # 0: the OS picks (uvicorn's line has it)
    return f"http://{host}:{port}"


def startup_line(settings: Settings) -> str:
    url = base_url(settings)
    if settings.control:
        control = f"control plane on: {url}{CONTROL_PREFIX}/, dashboard {url}{DASHBOARD_PATH}"
    else:
        control = "control plane off (--control turns it on)"
    if swagger_ui_dir() is not None:
        docs = f"docs {url}{UI_PATH}, contract {url}{SPEC_JSON}"
    else:
        docs = f"contract {url}{SPEC_JSON} (docs page: pip install 'connexion[swagger-ui]')"
    parts = [
        f"short-jobs mock: {url}",
        f"data dir {settings.data_dir.resolve()}",
        f"AK {settings.ak}, project {settings.project_id}",
        control,
        docs,
    ]
    return " | ".join(parts)
