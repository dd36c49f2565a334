"""`IamCredentials` and the gateway's check, as properties over a real SQLite store.

Whatever the token, clock or security token: an issued token is accepted exactly until its
expiry and never after, any change to it makes it unknown, and a temporary AK goes only with
its own signed security token.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mock_server.config import Settings
from mock_server.iam.credentials import ExpiredAccessKey, IamCredentials, security_token_problem
from mock_server.iam.model import Clock, IssuedToken, digest, new_credential, new_token
from mock_server.iam.store import IamStore
from mock_server.store import Store

SETTINGS = Settings(token_ttl=3600)
PROPERTIES = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


class FrozenClock(Clock):
    """Time stands still but for the offset, so expiry is decided exactly."""

    def now(self) -> float:
        return 1_800_000_000.0 + self.offset


@pytest.fixture(scope="module")
def iam(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IamCredentials]:
    store = Store(tmp_path_factory.mktemp("iam") / "jobs.sqlite3")
    try:
        yield IamCredentials(SETTINGS, IamStore(store), FrozenClock())
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
    iam.clock.offset = 0
    token = issue(iam, ttl)
    assert iam.token_problem(token) is None
    iam.clock.offset = elapsed
    problem = iam.token_problem(token)
    if elapsed < ttl:
        assert problem is None
    else:
        assert problem is not None and "has expired" in problem
    iam.clock.offset = 0


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


@PROPERTIES
@given(presented=st.text(min_size=1, max_size=80), signed=st.booleans())
def test_a_temporary_ak_goes_only_with_its_own_signed_security_token(
    iam: IamCredentials, presented: str, signed: bool
) -> None:
    credential = new_credential("u", iam.clock.now(), 900)
    iam.store.add_credential(credential)
    found = iam.secret_for(credential.access)
    assert found == (credential.secret, credential.security_token)
    names = ["host", "x-sdk-date", *(["x-security-token"] if signed else [])]
    problem = security_token_problem(found[1], {"x-security-token": presented}, names)
    if not signed:
        assert problem is not None and "not signed" in problem
    elif presented.strip() != credential.security_token:
        assert problem is not None and "does not match" in problem
    mine = {"x-security-token": credential.security_token}
    assert security_token_problem(found[1], mine, names) == (
        None if signed else "X-Security-Token is not signed: list it in SignedHeaders"
    )
    assert security_token_problem(found[1], {}, names) is not None
    assert security_token_problem(None, {}, names) is None  # a permanent AK needs none


def test_an_expired_temporary_ak_says_so_and_the_configured_one_never_expires(
    iam: IamCredentials,
) -> None:
    credential = new_credential("u", iam.clock.now(), 900)
    iam.store.add_credential(credential)
    iam.clock.offset = 900
    try:
        with pytest.raises(ExpiredAccessKey, match="has expired"):
            iam.secret_for(credential.access)
        assert iam.secret_for(SETTINGS.ak) == (SETTINGS.sk, None)
        assert iam.token_problem(SETTINGS.token) is None
        assert iam.secret_for("NOSUCHAK") is None
    finally:
        iam.clock.offset = 0
