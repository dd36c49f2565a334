"""The IAM operations of `mock_server/iam.yaml`, found by operationId like the service's.

connexion has validated the request against the spec, and the IAM endpoint
(`mock_server/http/iam.py`) has authenticated the callers of the calls that need it, before
these run. The HTTP layer hands over the request's URL or scope where a handler asks for it.
"""

from __future__ import annotations

from typing import Any

from mock_server.core.asgi import Scope
from mock_server.core.clock import Now
from mock_server.core.config import Settings
from mock_server.core.state import state_of
from mock_server.core.text import same_secret
from mock_server.iam.credentials import IamCredentials
from mock_server.iam.errors import IamCodes, IamError
from mock_server.iam.model import (
    DEFAULT_DOMAIN,
    PUBLIC_REGIONS,
    Account,
    IssuedToken,
    Project,
    digest,
    iam_time,
    new_credential,
    new_project_id,
    new_token,
)
from mock_server.iam.store import IamStore

# CreateTemporaryAccessKeyByToken's default duration_seconds (the IAM API reference).
DEFAULT_CREDENTIAL_SECONDS = 900


class IamHandlers:
    def __init__(
        self, settings: Settings, store: IamStore, credentials: IamCredentials, clock: Now
    ) -> None:
        self.settings = settings
        self.account = Account.from_settings(settings)
        self.store = store
        self.credentials = credentials
        self.clock = clock

    async def keystone_list_projects(
        self,
        name: str | None = None,
        domain_id: str | None = None,
        enabled: bool | None = None,
        is_domain: bool | None = None,
        parent_id: str | None = None,
        page: int | None = None,
        per_page: int | None = None,
        *,
        url: str,
    ) -> dict[str, Any]:
        """The account's projects (the configured one, then those created by
        `keystone_create_project`) that match every filter given, `per_page` (default all) on
        page `page` (default 1). `url`: the URL the request was sent to (`links.self` is built on
        it). A region without a project answers an empty list, as IAM does."""
        base = url.split("?")[0]
        projects = [
            {**project, "links": {"self": f"{base}/{project['id']}"}}
            for project in self._projects()
            if name in (None, project["name"])
            and domain_id in (None, project["domain_id"])
            and enabled in (None, True)
            and is_domain in (None, False)
            and parent_id in (None, project["parent_id"])
        ]
        size = per_page or max(len(projects), 1)
        first = ((page or 1) - 1) * size
        return {
            "projects": projects[first : first + size],
            "links": {"self": url, "previous": None, "next": None},
        }

    def _projects(self) -> list[dict[str, Any]]:
        created = self.store.projects(self.account.domain_id)
        return [self.account.project(), *(p.to_api() for p in created)]

    async def keystone_create_project(
        self, body: dict[str, Any], *, url: str
    ) -> tuple[dict[str, Any], int]:
        """KeystoneCreateProject: a project named after a public region (`cn-north-4`, what
        the Node core creates when `GET /v3/projects?name=<region>` finds none) or a
        sub-project (`cn-north-4_team`), in the caller's domain (iam.yaml's pattern admits the
        names of the regions `GET /v3/regions` lists). 403 for another domain or a `parent_id`
        that is not the domain, 409 for a name that exists (the mock's region has its
        project). The API serves a created project as it does the configured one
        (`IamCredentials.owns_project`), until the reset forgets it."""
        wanted = body["project"]
        name = wanted["name"]
        account = self.account
        for field in ("domain_id", "parent_id"):
            if wanted.get(field, account.domain_id) != account.domain_id:
                raise IamError(
                    IamCodes.FORBIDDEN,
                    f"({field} {wanted[field]!r} is not the caller's domain, {account.domain_id})",
                )
        project = Project(
            id=new_project_id(),
            name=name,
            domain_id=account.domain_id,
            description=str(wanted.get("description", "")),
            created_at=self.clock.now(),
        )
        if name == account.region or not self.store.add_project(project):
            raise IamError(IamCodes.CONFLICT, f"({name!r})")
        answer = {**project.to_api(), "links": {"self": f"{url.split('?')[0]}/{project.id}"}}
        return {"project": answer}, 201

    async def keystone_list_auth_domains(self) -> dict[str, Any]:
        """KeystoneListAuthDomains: the caller's one domain (the Node, Go and Java cores read
        `domains[0].id` for global services and before creating a project)."""
        domain = {
            "id": self.account.domain_id,
            "name": self.account.domain_name or DEFAULT_DOMAIN,
            "enabled": True,
            "description": "",
        }
        return {"domains": [domain], "links": {"self": "/v3/auth/domains"}}

    def _region_ids(self) -> list[str]:
        return sorted({self.account.region, *PUBLIC_REGIONS})

    async def keystone_list_regions(self) -> dict[str, Any]:
        """KeystoneListRegions: every public region (`model.PUBLIC_REGIONS` and the mock's own),
        `type: public`, whatever the account's projects (the Node core keeps the public ones
        when it considers creating a project for a region)."""
        regions = [
            {
                "id": region,
                "type": "public",
                "description": "",
                "parent_region_id": None,
                "locales": {"en-us": region, "zh-cn": region},
                "links": {"self": f"/v3/regions/{region}"},
            }
            for region in self._region_ids()
        ]
        return {"regions": regions, "links": {"self": "/v3/regions"}}

    async def keystone_create_user_token_by_password(
        self, body: dict[str, Any], nocatalog: str | None = None
    ) -> tuple[dict[str, Any], int, dict[str, str]]:
        auth = body["auth"]
        user = auth["identity"]["password"]["user"]
        domain_name = self._check_user(user)
        project = auth["scope"]["project"]
        account = self.account
        if (
            project.get("id", account.project_id) != account.project_id
            or project.get("name", account.region) != account.region
        ):
            raise IamError(
                IamCodes.UNAUTHORIZED,
                f"No project {project.get('id') or project.get('name')!r} in this account"
                f" (its project is {account.project_id}, named {account.region}).",
            )
        now = self.clock.now()
        token = new_token()
        issued = IssuedToken(
            digest=digest(token),
            user_name=account.user_name,
            domain_name=domain_name,
            project_id=account.project_id,
            issued_at=now,
            expires_at=now + self.settings.token_ttl,
        )
        self.store.add_token(issued)
        domain = {"id": account.domain_id, "name": domain_name}
        document: dict[str, Any] = {
            "expires_at": iam_time(issued.expires_at),
            "issued_at": iam_time(issued.issued_at),
            "methods": ["password"],
            "project": {"id": account.project_id, "name": account.region, "domain": domain},
            "user": {
                "id": account.user_id,
                "name": account.user_name,
                "domain": domain,
                "password_expires_at": "",
            },
            "roles": [{"id": "0", "name": "te_admin"}],
        }
        if nocatalog is None:
            document["catalog"] = []
        return {"token": document}, 201, {"X-Subject-Token": token}

    def _check_user(self, user: dict[str, Any]) -> str:
        """The domain name the token carries; 401 unless user, password and domain are right."""
        account = self.account
        right = same_secret(user["name"], account.user_name) & same_secret(
            user["password"], account.password
        )
        domain = user["domain"]
        if account.domain_name is not None:
            right &= domain.get("name", account.domain_name) == account.domain_name
            right &= domain.get("id", account.domain_id) == account.domain_id
        if not right:
            raise IamError(IamCodes.WRONG_PASSWORD)
        return str(domain.get("name") or account.domain_name or DEFAULT_DOMAIN)

    async def create_temporary_access_key_by_token(
        self, body: dict[str, Any], scope: Scope
    ) -> tuple[dict[str, Any], int]:
        identity = body["auth"]["identity"]
        token = identity.get("token") or {}
        if state_of(scope).iam_caller is None:
            # no X-Auth-Token or Authorization header: the body's token.id, if any
            if "id" not in token:
                raise IamError(
                    IamCodes.UNAUTHORIZED,
                    "Send X-Auth-Token, an AK/SK Authorization, or auth.identity.token.id.",
                )
            problem = self.credentials.token_problem(token["id"])
            if problem is not None:
                raise IamError(IamCodes.UNAUTHORIZED, f"({problem})")
        seconds = int(token.get("duration_seconds", DEFAULT_CREDENTIAL_SECONDS))
        credential = new_credential(self.account.user_name, self.clock.now(), seconds)
        self.store.add_credential(credential)
        return {"credential": credential.to_api()}, 201
