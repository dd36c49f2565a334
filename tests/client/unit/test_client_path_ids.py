"""Client unit tests (respx, no server, fake time): a project id or job id never changes the
request's path (issue 19, item 9). A project id that cannot be one is refused
(``short_jobs.identifiers.project_id_problem``); a job id is sent percent-encoded in its one path
segment, except the few no encoding keeps in place (``job_id_problem``), which are refused."""

from __future__ import annotations

from urllib.parse import quote, unquote

import httpx
import pytest
import respx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from short_jobs.errors import UsageError

from .client_fakes import AK, BASE, PROJECT, SK, Make, Surface, job_body

pytestmark = pytest.mark.usefixtures("clean_client_env")

COLLECTION_PATH = f"/v1/{PROJECT}/voice-training-manage/user/short-jobs"
PATH_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
id_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=70)


@pytest.mark.parametrize("job_id", ["", ".", "..", "x" * 65])
@pytest.mark.parametrize("call", ["show", "commit", "wait"])
def test_a_job_id_no_encoding_keeps_in_its_segment_is_refused_unsent(
    sj: Surface, mock: respx.MockRouter, call: str, job_id: str
) -> None:
    anything = mock.route().respond(200, json=job_body("SUCCEED"))
    with pytest.raises(UsageError, match="job id"):
        getattr(sj, call)(job_id)
    assert not anything.called


@pytest.mark.parametrize("job_id", ["a/b", "../../x", "a?b#c", "50%", "j ob", "ü", "%2E%2E"])
def test_any_other_job_id_is_sent_in_its_one_segment(
    sj: Surface, mock: respx.MockRouter, job_id: str
) -> None:
    show = mock.route().respond(200, json=job_body("SUCCEED"))
    sj.show(job_id)
    sent = show.calls.last.request.url.raw_path.decode()
    assert sent == f"{COLLECTION_PATH}/{quote(job_id, safe='')}"


@PATH_SETTINGS
@given(job_id=id_text)
@example(job_id="..")
@example(job_id="a/../b")
def test_a_job_id_is_refused_or_is_the_last_segment_of_the_path(sj: Surface, job_id: str) -> None:
    with respx.mock(assert_all_called=False) as mock:
        commit = mock.route().respond(200)
        try:
            sj.commit(job_id)
        except UsageError:
            assert not commit.called
            return
    path = commit.calls.last.request.url.raw_path.decode()
    head, _, last = path.rpartition("/")
    assert head == COLLECTION_PATH and unquote(last) == job_id


@pytest.mark.parametrize("project_id", ["a/b", "../../x", "x" * 3000, "p.q", "50%", "p?q"])
def test_a_project_id_that_cannot_be_one_is_refused_naming_the_argument(
    make: Make, mock: respx.MockRouter, project_id: str
) -> None:
    with pytest.raises(UsageError, match="project_id=") as raised:
        make(BASE, project_id=project_id, ak=AK, sk=SK)
    assert raised.value.names == ("project_id",)


@PATH_SETTINGS
@given(project_id=id_text.filter(bool))
@example(project_id="0a1b2c3d4e5f60718293a4b5c6d7e8f9")
@example(project_id="project_example-1")
def test_a_project_id_is_refused_or_is_its_own_segment_of_the_path(
    make: Make, project_id: str
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        show = mock.route().respond(200, json=job_body("SUCCEED"))
        try:
            sj = make(BASE, project_id=project_id, ak=AK, sk=SK)
        except UsageError:
            return
        sj.show("job-1")
    url: httpx.URL = show.calls.last.request.url
    segments = url.raw_path.decode().split("/")
    assert segments[:3] == ["", "v1", project_id] and len(segments) == 7
