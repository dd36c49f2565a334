"""Client unit tests (respx, no server, fake time): mistakes found before sending."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from short_jobs import (
    AsyncShortJobs,
    NetworkError,
    ShortJobs,
)
from short_jobs.errors import (
    UsageError,
)

from .client_fakes import (
    AK,
    BASE,
    INVISIBLE,
    ITEM,
    JOB,
    PROJECT,
    SK,
    TOKEN,
    FakeTime,
    Surface,
    stored_zip,
)

pytestmark = pytest.mark.usefixtures("clean_client_env")


@pytest.mark.parametrize(
    ("variable", "argument"),
    [
        ("HUAWEICLOUD_SDK_AK", "ak"),
        ("HUAWEICLOUD_SDK_SK", "sk"),
        ("HUAWEICLOUD_SDK_PROJECT_ID", "project_id"),
        ("HUAWEICLOUD_SDK_TOKEN", "token"),
    ],
)
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=INVISIBLE, at=st.sampled_from(["end", "start", "middle"]))
@example(bad="\n", at="end")  # the trial's HUAWEICLOUD_SDK_AK with a trailing newline
def test_credentials_with_invisible_characters_are_refused_naming_their_source(
    surface: str, monkeypatch: pytest.MonkeyPatch, variable: str, argument: str, bad: str, at: str
) -> None:
    good = {"ak": AK, "sk": SK, "project_id": PROJECT, "token": TOKEN}[argument]
    value = {"end": good + bad, "start": bad + good, "middle": good[:2] + bad + good[2:]}[at]
    cls: Callable[..., object] = ShortJobs if surface == "sync" else AsyncShortJobs
    others: dict[str, str] = (
        {"project_id": PROJECT}
        if argument == "token"
        else {"project_id": PROJECT, "ak": AK, "sk": SK}
    )
    others.pop(argument, None)
    with respx.mock(assert_all_called=False) as router:
        route = router.route().respond(200)
        with pytest.raises(UsageError, match="invisible or non-ASCII") as by_argument:
            cls(BASE, **{**others, argument: value})
        assert f"{argument}=" in str(by_argument.value)
        monkeypatch.setenv(variable, value)
        with pytest.raises(UsageError, match=variable):
            cls(BASE, **others)
        assert not route.called


def test_an_error_raised_before_sending_is_a_usage_error_never_retried(
    sj: Surface, mock: respx.MockRouter, fake_time: FakeTime, tmp_path: Path
) -> None:
    route = mock.get(ITEM).mock(side_effect=httpx.LocalProtocolError("Illegal header value"))
    with pytest.raises(UsageError, match="not sent: Illegal header value") as caught:
        sj.show(JOB)
    assert not isinstance(caught.value, NetworkError) and caught.value.status is None
    assert route.call_count == 1 and fake_time.sleeps == []
    zipped = stored_zip(tmp_path / "r.zip", b"z")
    for url in ("http://bucket/x\n", "http://[::1/x", "ftp://bucket/x"):
        with pytest.raises(UsageError):
            sj.upload(url, zipped)
    assert fake_time.sleeps == []
