"""What the API gateway asks IAM about a caller: `IamCredentials`.

It answers the gateway's `Credentials` protocol (declared here, asked by
`mock_server.http.gateway`) for everything the mock accepts: the configured `--ak`/`--sk` and
`--token` (`ConfiguredCredentials`, asked first, without touching the store), tokens issued by
`POST /v3/auth/tokens` until they expire, and temporary AK/SKs issued by
`POST /v3.0/OS-CREDENTIAL/securitytokens` until they expire (each bound to its
security token), and the projects it owns: `--project-id`, and those `POST /v3/projects`
created in the account's domain (until the reset), so a client that created its region's
project (the Node core does when a region has none) calls the API under it. Checking a
request against these answers is the gateway's `authenticate` alone, for the API and for IAM's
own calls alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mock_server.core.clock import Now
from mock_server.core.config import Settings
from mock_server.core.text import same_secret
from mock_server.iam.model import Account, IssuedToken, digest, iam_time
from mock_server.iam.store import IamStore
from short_jobs.signing import SignatureError


class ExpiredAccessKey(SignatureError):
    """`secret_for` raises it for a temporary AK past its expiry: the gateway's SignatureError
    handling turns it into 401 APIGW.0301 with this reason (instead of "not found")."""


class Credentials(Protocol):
    """Where the gateway learns which credentials are valid: `ConfiguredCredentials` (the fixed
    settings), or `IamCredentials` (those, then what IAM issued), the app's."""

    def token_problem(self, token: str) -> str | None:
        """None if the `X-Auth-Token` value is accepted, else the 401's reason
        (e.g. "the X-Auth-Token has expired")."""

    def secret_for(self, ak: str) -> tuple[str, str | None] | None:
        """(SK, security token the AK requires or None) for a known AK, None for an unknown one."""

    def owns_project(self, project_id: str) -> bool:
        """Whether the caller's account owns project `project_id` (the path's, `X-Project-Id`):
        the configured one, or one created in its domain."""


@dataclass(frozen=True, slots=True)
class ConfiguredCredentials:
    """The mock's configured credentials: one permanent AK/SK and one token."""

    ak: str
    sk: str
    token: str
    project_id: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ConfiguredCredentials:
        return cls(settings.ak, settings.sk, settings.token, settings.project_id)

    def token_problem(self, token: str) -> str | None:
        if same_secret(token, self.token):
            return None
        return "the X-Auth-Token is invalid or has expired"

    def secret_for(self, ak: str) -> tuple[str, str | None] | None:
        return (self.sk, None) if same_secret(ak, self.ak) else None

    def owns_project(self, project_id: str) -> bool:
        return project_id == self.project_id


class IamCredentials:
    def __init__(self, settings: Settings, store: IamStore, clock: Now) -> None:
        self.settings = settings
        self.fixed = ConfiguredCredentials.from_settings(settings)
        self.store = store
        self.clock = clock
        self.domain_id = Account.from_settings(settings).domain_id

    def token_problem(self, token: str) -> str | None:
        """None if `token` may call MetaStudio now; else the reason for the 401."""
        if self.fixed.token_problem(token) is None:
            return None
        issued = self.issued_token(token)
        if issued is None:
            return "the X-Auth-Token is invalid"
        return self._issued_problem(issued)

    def issued_token(self, token: str) -> IssuedToken | None:
        return self.store.token(digest(token))

    def _issued_problem(self, issued: IssuedToken) -> str | None:
        if self.clock.now() >= issued.expires_at:
            return f"the X-Auth-Token has expired (at {iam_time(issued.expires_at)})"
        if issued.project_id != self.settings.project_id:
            return f"the X-Auth-Token is scoped to another project ({issued.project_id})"
        return None

    def secret_for(self, ak: str) -> tuple[str, str | None] | None:
        """(SK, the security token this AK must come with, or None), or None for an unknown AK.

        Raises `ExpiredAccessKey` (a `SignatureError`) for a temporary AK that has expired.
        """
        fixed = self.fixed.secret_for(ak)
        if fixed is not None:
            return fixed
        credential = self.store.credential(ak)
        if credential is None:
            return None
        if self.clock.now() >= credential.expires_at:
            raise ExpiredAccessKey(
                f"the temporary access key {ak!r} has expired"
                f" (at {iam_time(credential.expires_at)}); get a new one"
            )
        return credential.secret, credential.security_token

    def owns_project(self, project_id: str) -> bool:
        """`--project-id` (asked without touching the store), or a project created in the
        account's domain and not forgotten by a reset. A project of another domain (a data dir
        reused with another `--iam-domain`) is not the caller's."""
        if self.fixed.owns_project(project_id):
            return True
        project = self.store.project(project_id)
        return project is not None and project.domain_id == self.domain_id
