"""OBS V2 pre-signed PUT URLs: check_presigned accepts what presign_put issues, and only that."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mock_server.obs.errors import ObsCodes
from mock_server.obs.presign import PresignError, check_presigned, presign_put

AK = "OBSMOCKAK00000000001"
SK = "obs/mock+secret=key"
SECRETS = {AK: SK}
BASE = "http://127.0.0.1:8000/obs"
BUCKET = "voice-uploads"
KEY = "jobs/job 1/data+é.zip"
EXPIRES = 1_800_000_000
SIGNATURE_HINT = "The request signature we calculated does not match"
ZIP = {"Content-Type": "application/zip"}


def _issue(base_url: str = BASE, content_type: str = "application/zip") -> str:
    return presign_put(base_url, BUCKET, KEY, AK, SK, EXPIRES, content_type=content_type)


def _parts(url: str) -> tuple[str, str, dict[str, str]]:
    """(bucket, key, query) decoded, as the mock's router hands them to check_presigned."""
    split = urlsplit(url)
    prefix = urlsplit(BASE).path
    assert split.path.startswith(prefix + "/")
    bucket, _, key = split.path[len(prefix) + 1 :].partition("/")
    return unquote(bucket), unquote(key), dict(parse_qsl(split.query, keep_blank_values=True))


def _check(
    url: str,
    *,
    method: str = "PUT",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    now: int = EXPIRES - 60,
    secret_for: Callable[[str], str | None] = SECRETS.get,
    bucket: str | None = None,
    key: str | None = None,
    query: dict[str, str] | None = None,
) -> None:
    url_bucket, url_key, url_query = _parts(url)
    check_presigned(
        method,
        url_bucket if bucket is None else bucket,
        url_key if key is None else key,
        url_query if query is None else query,
        ZIP if headers is None else headers,
        secret_for,
        now,
    )


def _refused(url: str, **kwargs: Any) -> PresignError:
    with pytest.raises(PresignError) as info:
        _check(url, **kwargs)
    return info.value


def test_url_shape_and_signature_follow_the_obs_v2_rules() -> None:
    url = _issue()
    split = urlsplit(url)
    assert f"{split.scheme}://{split.netloc}" == "http://127.0.0.1:8000"
    assert split.path == "/obs/voice-uploads/jobs/job%201/data%2B%C3%A9.zip"
    names = [name for name, _ in parse_qsl(split.query)]
    assert names == ["AccessKeyId", "Expires", "Signature"]
    query = dict(parse_qsl(split.query))
    assert query["AccessKeyId"] == AK
    assert query["Expires"] == str(EXPIRES)
    to_sign = f"PUT\n\napplication/zip\n{EXPIRES}\n/voice-uploads/jobs/job%201/data%2B%C3%A9.zip"
    digest = hmac.new(SK.encode(), to_sign.encode(), hashlib.sha1).digest()
    assert query["Signature"] == base64.b64encode(digest).decode()
    # base64's "+", "/" and "=" must be percent-encoded in the URL
    assert not any(c in split.query.partition("Signature=")[2] for c in "+/=")


def test_round_trip_is_accepted() -> None:
    _check(_issue())


def test_round_trip_accepts_header_pairs_in_any_case() -> None:
    _check(_issue(), headers=[("content-type", "application/zip"), ("Content-Length", "4")])


def test_other_signed_content_type_round_trips() -> None:
    url = _issue(content_type="application/octet-stream")
    _check(url, headers={"Content-Type": "application/octet-stream"})


def test_trailing_slash_on_base_url_is_ignored() -> None:
    assert _issue(base_url=BASE + "/") == _issue()


def test_valid_until_the_expiry_second_inclusive() -> None:
    _check(_issue(), now=EXPIRES)


def test_expired() -> None:
    error = _refused(_issue(), now=EXPIRES + 1)
    assert (error.code.status, error.code.code) == (403, "AccessDenied")
    assert "Request has expired" in error.message


@given(method=st.from_regex(r"[A-Za-z]{1,12}", fullmatch=True).filter(lambda m: m != "PUT"))
@example(method="GET")
@example(method="HEAD")
@example(method="POST")
@example(method="DELETE")
@example(method="put")  # methods are case-sensitive (RFC 9110 9.1): signed as written
def test_any_method_but_put_does_not_match_the_signature(method: str) -> None:
    """OBS signs the method (the string to sign's first line): a URL signed for PUT is a
    signature mismatch for every other method, never 405."""
    error = _refused(_issue(), method=method)
    _assert_mismatch(error)
    assert error.message.startswith(SIGNATURE_HINT)
    assert f"a {method} is signed differently" in error.message
    assert error.code is ObsCodes.SIGNATURE_DOES_NOT_MATCH  # the one table's row


def _assert_mismatch(error: PresignError) -> None:
    assert (error.code.status, error.code.code) == (403, "SignatureDoesNotMatch")


def test_wrong_content_type() -> None:
    error = _refused(_issue(), headers={"Content-Type": "application/octet-stream"})
    _assert_mismatch(error)
    assert "application/octet-stream" in error.message


def test_missing_content_type() -> None:
    error = _refused(_issue(), headers={})
    _assert_mismatch(error)
    assert "no Content-Type" in error.message


def test_content_md5_not_in_the_url_is_refused() -> None:
    md5 = base64.b64encode(hashlib.md5(b"PK").digest()).decode()
    _assert_mismatch(_refused(_issue(), headers={**ZIP, "Content-MD5": md5}))


def test_unsigned_obs_header_is_refused() -> None:
    _assert_mismatch(_refused(_issue(), headers={**ZIP, "x-obs-acl": "public-read"}))


def test_non_obs_headers_do_not_matter() -> None:
    _check(_issue(), headers={**ZIP, "X-Custom": "1", "User-Agent": "curl/8"})


def test_unknown_access_key() -> None:
    error = _refused(_issue(), secret_for={}.get)
    _assert_mismatch(error)
    assert AK in error.message


def test_wrong_secret_key() -> None:
    _assert_mismatch(_refused(_issue(), secret_for={AK: SK + "x"}.get))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"bucket": "other-bucket"}, id="bucket"),
        pytest.param({"key": "jobs/job 2/data+é.zip"}, id="key"),
        pytest.param({"key": KEY.replace("+", " ")}, id="plus-in-key"),
    ],
)
def test_tampered_bucket_or_key(change: dict[str, str]) -> None:
    _assert_mismatch(_refused(_issue(), **change))


def _query(**changes: str | None) -> dict[str, str]:
    query = _parts(_issue())[2]
    for name, value in changes.items():
        if value is None:
            del query[name]
        else:
            query[name] = value
    return query


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"Expires": str(EXPIRES + 3600)}, id="extended-expiry"),
        pytest.param({"Expires": str(EXPIRES - 1)}, id="shortened-expiry"),
        pytest.param({"AccessKeyId": "OTHERAK"}, id="access-key-id"),
        pytest.param({"Signature": "A" + _parts(_issue())[2]["Signature"][1:]}, id="signature"),
    ],
)
def test_tampered_query(changes: dict[str, str]) -> None:
    secrets = {**SECRETS, "OTHERAK": "other-secret"}
    _assert_mismatch(_refused(_issue(), query=_query(**changes), secret_for=secrets.get))


@pytest.mark.parametrize("name", ["AccessKeyId", "Expires", "Signature"])
def test_missing_query_parameter(name: str) -> None:
    error = _refused(_issue(), query=_query(**{name: None}))
    _assert_mismatch(error)
    assert name in error.message


def test_non_numeric_expires() -> None:
    _assert_mismatch(_refused(_issue(), query=_query(Expires="tomorrow")))


def test_error_is_printable() -> None:
    error = _refused(_issue(), method="GET")
    assert str(error).startswith("403 SignatureDoesNotMatch: ")


def test_every_refusal_is_a_row_of_the_obs_table() -> None:
    """presign.py names ObsCodes rows: no code of its own (one table of OBS codes)."""
    rows = set(ObsCodes.all())
    refusals = [
        _refused(_issue(), method="GET"),
        _refused(_issue(), now=EXPIRES + 1),
        _refused(_issue(), headers={}),
        _refused(_issue(), query=_query(Expires="x")),
        _refused(_issue(), query=_query(AccessKeyId=None)),
        _refused(_issue(), secret_for=lambda _ak: None),
    ]
    assert all(error.code in rows for error in refusals)


@given(
    bucket=st.text(min_size=1, max_size=12),
    key=st.text(min_size=1, max_size=40),
    ak=st.text(min_size=1, max_size=20),
    sk=st.text(min_size=1, max_size=40),
    expires=st.integers(0, 2**40),
    content_type=st.sampled_from(["application/zip", "application/octet-stream", ""]),
)
def test_presign_put_spells_the_url_as_string_to_sign_and_urlencode_do(
    bucket: str, key: str, ak: str, sk: str, expires: int, content_type: str
) -> None:
    """presign_put builds its resource and query once, by hand (a create's cost, issue 23):
    the URL is the one made from the public rule, `string_to_sign` and `urlencode`."""
    from urllib.parse import quote, urlencode

    from mock_server.obs.presign import string_to_sign

    to_sign = string_to_sign("PUT", "", content_type, expires, {}, bucket, key)
    mac = hmac.new(sk.encode("utf-8"), to_sign.encode("utf-8"), hashlib.sha1).digest()
    query = urlencode(
        {"AccessKeyId": ak, "Expires": str(expires), "Signature": base64.b64encode(mac).decode()},
        quote_via=quote,
    )
    expected = f"http://h:1/{quote(bucket, safe='')}/{quote(key, safe='/')}?{query}"
    assert presign_put("http://h:1/", bucket, key, ak, sk, expires, content_type) == expected
