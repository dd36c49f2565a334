"""The mock's settings: one dataclass, its documented defaults, and the environment it reads.

Settings travel to worker processes through the environment (uvicorn starts each worker from an
import string), so `to_environ` and `from_environ` are exact inverses.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_AK = "MOCKACCESSKEY0000000"
DEFAULT_SK = "mock-secret-key-0000000000000000000000000"
DEFAULT_PROJECT_ID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DEFAULT_TOKEN = "mock-token"
DEFAULT_REGION = "cn-north-4"
DEFAULT_IAM_USER = "mock-user"
DEFAULT_IAM_PASSWORD = "mock-password-0000"
DAY_SECONDS = 24 * 60 * 60
MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".mock-data")
    ak: str = DEFAULT_AK
    sk: str = DEFAULT_SK
    project_id: str = DEFAULT_PROJECT_ID
    token: str = DEFAULT_TOKEN
    # IAM (mock_server/iam): the project's region, the one user, and how long tokens live
    region: str = DEFAULT_REGION
    iam_port: int | None = None  # None: --port + 1 (any free port when --port is 0)
    iam_user: str = DEFAULT_IAM_USER
    iam_password: str = DEFAULT_IAM_PASSWORD
    iam_domain: str | None = None  # None: any domain name is accepted
    token_ttl: int = DAY_SECONDS
    processing_seconds: float = 2.0
    upload_url_ttl: int = 3600
    max_upload_bytes: int = 512 * MIB
    public_url: str | None = None
    workers: int = 1
    control: bool = False
    validate_responses: bool = False
    log_requests: bool = True

    def __post_init__(self) -> None:
        if self.processing_seconds < 0:
            raise ValueError("processing_seconds must be >= 0")
        if self.upload_url_ttl <= 0:
            raise ValueError("upload_url_ttl must be > 0")
        if self.max_upload_bytes <= 0:
            raise ValueError("max_upload_bytes must be > 0")
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        if self.token_ttl <= 0:
            raise ValueError("token_ttl must be > 0")
        if self.iam_port is not None and not 0 <= self.iam_port <= 65535:
            raise ValueError("iam_port must be 0..65535")

    @property
    def iam_listen_port(self) -> int:
        """The IAM endpoint's port: --iam-port, else the next one after --port (0 stays 0)."""
        if self.iam_port is not None:
            return self.iam_port
        return self.port + 1 if self.port else 0

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def to_environ(self) -> dict[str, str]:
        out = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None:
                out[env_name(field.name)] = str(value)
        return out

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from SHORT_JOBS_MOCK_* variables, then the official SDK's variables."""
        env = os.environ if environ is None else environ
        sdk_fallbacks = {
            "ak": "HUAWEICLOUD_SDK_AK",
            "sk": "HUAWEICLOUD_SDK_SK",
            "project_id": "HUAWEICLOUD_SDK_PROJECT_ID",
        }
        values: dict[str, Any] = {}
        for field in fields(cls):
            raw = env.get(env_name(field.name))
            if raw is None and field.name in sdk_fallbacks:
                raw = env.get(sdk_fallbacks[field.name])
            if raw is None or raw == "":
                continue
            values[field.name] = _parse(field.name, raw)
        return cls(**values)


def env_name(field_name: str) -> str:
    return f"SHORT_JOBS_MOCK_{field_name.upper()}"


_BOOLEAN_TRUE = {"1", "true", "yes", "on"}


def _parse(name: str, raw: str) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if kind in ("int", "int | None"):
        return int(raw)
    if kind == "float":
        return float(raw)
    if kind == "bool":
        return raw.strip().lower() in _BOOLEAN_TRUE
    if kind == "Path":
        return Path(raw)
    return raw
