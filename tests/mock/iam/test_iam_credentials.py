"""`IamCredentials` and the gateway's `authenticate` over them, as properties over a real
SQLite store.

Whatever the token, clock or security token: an issued token is accepted exactly until its
expiry and never after, any change to it makes it unknown, and a temporary AK goes only with
its own signed security token.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_server.core.config import Settings
from mock_server.core.errors import ApiError
from mock_server.http.gateway import GatewayRequest, authenticate
from mock_server.iam.credentials import ExpiredAccessKey, IamCredentials
from mock_server.iam.model import (
    Account,
    IssuedToken,
    Project,
    TemporaryCredential,
    digest,
    new_credential,
    new_project_id,
    new_token,
)
from mock_server.iam.store import IamStore
from mock_server.service.store import Store
from short_jobs.signing import sign_request

SETTINGS = Settings(token_ttl=3600)
NOW = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
PATH = f"/v1/{SETTINGS.project_id}/voice-training-manage/user/short-jobs/x"
PROPERTIES = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class FrozenClock:
    """Time stands still but for the offset, so expiry is decided exactly."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return 1_800_000_000.0 + self.offset


CLOCK = FrozenClock()


@pytest.fixture(scope="module")
def iam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IamCredentials]:
    store = Store(tmp_path_factory.mktemp("iam") / "jobs.sqlite3")
    try:
        yield IamCredentials(SETTINGS, IamStore(store.database), CLOCK)
    finally:
        store.close()


def issue(iam: IamCredentials, ttl: float) -> str:
    token = new_token()
    now = iam.clock.now()
    iam.store.add_token(IssuedToken(digest(token), "u", "d", SETTINGS.project_id, now, now + ttl))
    return token


@PROPERTIES
@given(ttl=st.floats(min_value=1, max_value=10**6), elapsed=st.floats(min_value=0, max_value=2e6))
@example(ttl=60, elapsed=60)  # the expiry instant itself is past
def test_an_issued_token_is_good_exactly_until_it_expires(
    iam: IamCredentials, ttl: float, elapsed: float
) -> None:
    CLOCK.offset = 0
    token = issue(iam, ttl)
    assert iam.token_problem(token) is None
    CLOCK.offset = elapsed
    problem = iam.token_problem(token)
    if elapsed < ttl:
        assert problem is None
    else:
        assert problem is not None and "has expired" in problem
    CLOCK.offset = 0


@PROPERTIES
@given(data=st.data())
def test_any_change_to_a_token_makes_it_invalid(iam: IamCredentials, data: st.DataObject) -> None:
    token = issue(iam, 3600)
    index = data.draw(st.integers(min_value=0, max_value=len(token)))
    change = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    char = data.draw(st.characters(min_codepoint=0x21, max_codepoint=0xFF))
    if change == "replace" and index < len(token) and token[index] != char:
        bad = token[:index] + char + token[index + 1 :]
    elif change == "delete" and index < len(token):
        bad = token[:index] + token[index + 1 :]
    else:
        bad = token[:index] + char + token[index:]
    assert iam.token_problem(bad) == "the X-Auth-Token is invalid"


def signed_by(
    credential: TemporaryCredential, security_token: str | None, signed: bool
) -> GatewayRequest:
    """A GET signed with the temporary AK/SK, sending `security_token` (signed or not)."""
    headers = {"Host": "127.0.0.1:8000"}
    if security_token is not None and signed:
        headers["X-Security-Token"] = security_token
    headers.update(
        sign_request("GET", PATH, headers, b"", credential.access, credential.secret, NOW)
    )
    if security_token is not None and not signed:
        headers["X-Security-Token"] = security_token
    pairs = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    return GatewayRequest("GET", PATH.encode(), b"", pairs, b"", SETTINGS.project_id)


def refusal(request: GatewayRequest, iam: IamCredentials) -> str | None:
    """None if `authenticate` accepts the request, else its 401's message."""
    try:
        authenticate(request, iam, SETTINGS.project_id, lambda: NOW)
    except ApiError as error:
        return f"{error.code.status} {error.code.code} {error.message}"
    return None


VISIBLE = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=80)


@PROPERTIES
@given(presented=st.one_of(st.none(), VISIBLE), own=st.booleans(), signed=st.booleans())
def test_a_temporary_ak_goes_only_with_its_own_signed_security_token(
    iam: IamCredentials, presented: str | None, own: bool, signed: bool
) -> None:
    credential = new_credential("u", iam.clock.now(), 900)
    iam.store.add_credential(credential)
    assert iam.secret_for(credential.access) == (credential.secret, credential.security_token)
    sent = credential.security_token if own else presented
    problem = refusal(signed_by(credential, sent, signed), iam)
    if sent is None:
        assert (
            problem is not None
            and problem.startswith("401 APIGW.0301")
            and "send its X-Security-Token" in problem
        )
    elif not signed:
        assert (
            problem is not None
            and problem.startswith("401 APIGW.0301")
            and "must be signed" in problem
        )
    elif sent != credential.security_token:
        assert (
            problem is not None
            and problem.startswith("401 APIGW.0301")
            and "does not belong to this access key" in problem
        )
    else:
        assert problem is None


def test_an_expired_temporary_ak_is_a_401_saying_so(iam: IamCredentials) -> None:
    CLOCK.offset = 0
    credential = new_credential("u", iam.clock.now(), 900)
    iam.store.add_credential(credential)
    CLOCK.offset = 900
    try:
        problem = refusal(signed_by(credential, credential.security_token, True), iam)
        assert problem is not None and f"{credential.access!r} has expired" in problem
    finally:
        CLOCK.offset = 0


def test_an_expired_temporary_ak_says_so_and_the_configured_one_never_expires(
    iam: IamCredentials,
) -> None:
    credential = new_credential("u", iam.clock.now(), 900)
    iam.store.add_credential(credential)
    CLOCK.offset = 900
    try:
        with pytest.raises(ExpiredAccessKey, match="has expired"):
            iam.secret_for(credential.access)
        assert iam.secret_for(SETTINGS.ak) == (SETTINGS.sk, None)
        assert iam.token_problem(SETTINGS.token) is None
        assert iam.secret_for("NOSUCHAK") is None
    finally:
        CLOCK.offset = 0


@PROPERTIES
@given(
    ours=st.booleans(),
    asked=st.one_of(st.none(), st.text(max_size=40)),
)
def test_the_account_owns_its_project_and_those_created_in_its_domain_only(
    iam: IamCredentials, ours: bool, asked: str | None
) -> None:
    mine = Account.from_settings(SETTINGS).domain_id
    project = Project(new_project_id(), new_project_id(), mine if ours else "other", "", 0.0)
    assert iam.store.add_project(project)
    assert iam.owns_project(project.id) is ours
    assert iam.owns_project(SETTINGS.project_id)
    if asked is not None and asked != SETTINGS.project_id and iam.store.project(asked) is None:
        assert not iam.owns_project(asked)  # a made-up id
