"""`--allowed-hosts`: the control plane's DNS-rebinding guard answers the names the user allows
(docker compose: `http://mock:8080/_mock/reset`), compared as DNS names, and no other name.

The family: Host values built from an allowed name (any case, a trailing dot, a port, its
Unicode or A-label spelling) are admitted; every other DNS name is refused, names that merely
contain, extend or prefix an allowed one included. The guard's other rules (Origin,
Sec-Fetch-Site, the JSON content type) are tested in test_control_guard.py.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import idna
import plain_http
import pytest
from helpers import collection, item, token_client
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from mock_server.control.guard import allowed_names, canonical_name, cross_site_problem
from mock_server.faces.inprocess import RunningMock

SERVED = "127.0.0.1"

# ASCII labels as docker compose service names and DNS names have them
_label = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,14}", fullmatch=True)
_ascii_names = st.lists(_label, min_size=1, max_size=3).map(".".join)
_unicode_names = st.sampled_from(["bücher.example", "ß.de", "münchen", "пример.испытание"])
_names = st.one_of(_ascii_names, _unicode_names)
_ports = st.one_of(st.none(), st.integers(min_value=0, max_value=65535))


def _problem(host: str, allowed: str) -> str | None:
    return cross_site_problem("GET", [(b"host", host.encode("utf-8"))], SERVED, "http", allowed)


def _spell(name: str, upper: bool, dot: bool, port: int | None, a_label: bool) -> str:
    """One way a client may write `name` in a Host header."""
    text = idna.encode(name, uts46=True).decode() if a_label and not name.isascii() else name
    text = text.upper() if upper and text.isascii() else text  # "ß".upper() is "SS": no spelling
    text = text + "." if dot else text
    return text if port is None else f"{text}:{port}"


@settings(max_examples=300)
@given(
    name=_names,
    others=st.lists(_names, max_size=3),
    upper=st.booleans(),
    dot=st.booleans(),
    port=_ports,
    a_label=st.booleans(),
    setting_port=_ports,
    separator=st.sampled_from([",", " ", ", ", "\t"]),
)
@example("mock", [], False, False, 8080, False, None, ",")  # docker compose's service name
def test_an_allowed_name_is_admitted_in_every_spelling(
    name: str,
    others: list[str],
    upper: bool,
    dot: bool,
    port: int | None,
    a_label: bool,
    setting_port: int | None,
    separator: str,
) -> None:
    entry = name if setting_port is None else f"{name}:{setting_port}"
    setting = separator.join([*others, entry])
    assert _problem(_spell(name, upper, dot, port, a_label), setting) is None


@settings(max_examples=300)
@given(
    allowed=st.lists(_names, min_size=1, max_size=3),
    host=st.one_of(
        _names,
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=25),
    ),
    port=_ports,
)
@example(["mock"], "mock.evil.example", None)  # a suffix of the allowed name's
@example(["mock"], "evilmock", 8080)  # contains it
@example(["mock"], "mock..", None)  # two trailing dots: no name
@example(["mock"], "mo", None)  # a prefix
@example(["ss.de"], "ß.de", None)  # UTS #46 non-transitional: ß is not ss (browsers agree)
@example(["*.example"], "a.example", None)  # no wildcards
def test_any_other_dns_name_is_refused(allowed: list[str], host: str, port: int | None) -> None:
    canonical = {canonical_name(name) for name in allowed}
    name = canonical_name(host.rstrip(":0123456789") if ":" in host else host)
    assume(name is not None and name not in canonical)
    assert name is not None
    assume(name != "localhost" and not name.endswith(".localhost"))
    assume(not all(part.isdigit() for part in name.split(".")))  # an IP literal: not a name
    value = host if port is None else f"{host}:{port}"
    problem = _problem(value, ",".join(allowed))
    assert problem is not None and "--allowed-hosts" in problem


@pytest.mark.parametrize("setting", ["", "mock", "mock,web", "a b,,c"])
def test_without_the_name_the_defaults_hold(setting: str) -> None:
    for host in ("127.0.0.1:8000", "localhost", "LOCALHOST.", "[::1]:8000", "app.localhost"):
        assert _problem(host, setting) is None, host
    assert _problem("rebound.example", setting) is not None


def test_entries_that_are_no_names_never_match() -> None:
    assert allowed_names("mock, bad:port, a..b, ,x y,.") == {"mock", "x", "y"}
    assert _problem("bad", "bad:port") is not None


def test_an_allowed_name_reaches_the_control_plane_over_http(
    make_mock: Callable[..., AbstractContextManager[RunningMock]],
) -> None:
    """The issue's input: a docker compose service calling `http://mock:8080/_mock/...`."""
    with make_mock(control=True, allowed_hosts="mock") as server:
        headers = {"Host": "mock:8080", "Content-Type": "application/json"}
        with token_client(server) as client:
            job = client.post(collection(server), json={"job_type": "VOICE_ASSESS"}).json()
            assert (
                plain_http.get(f"{server.url}/_mock/requests", headers=headers).status_code == 200
            )
            refused = plain_http.post(
                f"{server.url}/_mock/reset", headers={**headers, "Host": "mock.evil:8080"}
            )
            assert refused.status_code == 403
            assert refused.json()["error_code"] == "MOCK.00000403"
            assert client.get(item(server, job["job_id"])).status_code == 200
            reset = plain_http.post(f"{server.url}/_mock/reset", headers=headers)
            assert reset.status_code == 200 and reset.json()["jobs_removed"] == 1
