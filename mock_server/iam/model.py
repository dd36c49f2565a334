"""IAM's state as plain values: the one account, its projects, issued tokens and temporary
credentials.

No HTTP here. Times are Unix seconds (floats) from the mock's one clock (`core.clock`), which tests
may move (`POST /_mock/clock`) to see tokens expire without waiting.
"""

from __future__ import annotations

import hashlib
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from mock_server.core.config import Settings

# IAM writes times as UTC with microseconds: 2020-01-08T03:50:07.574000Z (the API reference's
# examples; the official SDK parses credentials' expires_at with this format).
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# The account's domain when --iam-domain is not set (any domain name is then accepted).
DEFAULT_DOMAIN = "mock-domain"
_NAMES = uuid.UUID("6f1c2d9e-58a4-4a5e-9d0b-5a1b2c3d4e5f")  # a namespace for the ids below
_AK_ALPHABET = string.ascii_uppercase + string.digits
# Huawei Cloud's public regions, as the official Go core lists them with their IAM endpoints
# (huaweicloud-sdk-go-v3, core/auth/internal/iam_endpoint.go). KeystoneListRegions lists every
# region whatever the account's projects; the Node core only creates a project (POST
# /v3/projects) for a region in this list (core/internal/services/iam.service.ts).
PUBLIC_REGIONS = (
    "cn-north-1", "cn-north-2", "cn-north-4", "cn-north-9", "cn-east-2", "cn-east-3",
    "cn-east-4", "cn-east-5", "cn-south-1", "cn-south-2", "cn-southwest-2", "ap-southeast-1",
    "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "af-south-1", "sa-brazil-1",
    "la-south-2", "la-north-2", "na-mexico-1", "eu-west-0", "my-kualalumpur-1", "ru-moscow-1",
    "me-east-1", "ae-ad-1", "tr-west-1",
)  # fmt: skip
_SK_ALPHABET = string.ascii_letters + string.digits


def iam_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime(TIME_FORMAT)


def stable_id(kind: str, name: str) -> str:
    """A 32-hex id that is the same for the same name on every run (IAM ids look like this)."""
    return uuid.uuid5(_NAMES, f"{kind}:{name}").hex


def digest(token: str) -> str:
    """Tokens are stored by their SHA-256, never as issued."""
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Account:
    """Who IAM knows: one user in one domain, owning one project named after the region."""

    user_name: str
    password: str
    domain_name: str | None  # None: any domain name is accepted
    project_id: str
    region: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Account:
        return cls(
            user_name=settings.iam_user,
            password=settings.iam_password,
            domain_name=settings.iam_domain,
            project_id=settings.project_id,
            region=settings.region,
        )

    @property
    def domain_id(self) -> str:
        return stable_id("domain", self.domain_name or DEFAULT_DOMAIN)

    @property
    def user_id(self) -> str:
        return stable_id("user", self.user_name)

    def project(self) -> dict[str, object]:
        """The configured project (named after the region), in IAM's shape."""
        return Project(self.project_id, self.region, self.domain_id, "", 0.0).to_api()


@dataclass(frozen=True)
class Project:
    """A project the account created (KeystoneCreateProject), besides its configured one.

    `name` is a region id (the region's own project, as the Node core creates) or
    `{region}_{suffix}` (a sub-project), as IAM names projects."""

    id: str
    name: str
    domain_id: str
    description: str
    created_at: float

    def to_api(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "domain_id": self.domain_id,
            "description": self.description,
            "enabled": True,
            "is_domain": False,
            "parent_id": self.domain_id,
        }


def new_project_id() -> str:
    """A fresh 32-hex project id, as IAM's look."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class IssuedToken:
    digest: str
    user_name: str
    domain_name: str
    project_id: str
    issued_at: float
    expires_at: float


@dataclass(frozen=True)
class TemporaryCredential:
    access: str
    secret: str
    security_token: str
    user_name: str
    issued_at: float
    expires_at: float

    def to_api(self) -> dict[str, str]:
        return {
            "access": self.access,
            "secret": self.secret,
            "securitytoken": self.security_token,
            "expires_at": iam_time(self.expires_at),
        }


def new_token() -> str:
    """An opaque token; IAM's are long base64 strings that start `MII`."""
    return "MII" + secrets.token_urlsafe(96)


def new_credential(user_name: str, now: float, seconds: int) -> TemporaryCredential:
    return TemporaryCredential(
        access="".join(secrets.choice(_AK_ALPHABET) for _ in range(20)),
        secret="".join(secrets.choice(_SK_ALPHABET) for _ in range(40)),
        security_token="gQ" + secrets.token_urlsafe(144),
        user_name=user_name,
        issued_at=now,
        expires_at=now + seconds,
    )
