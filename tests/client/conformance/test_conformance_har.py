"""The HAR recorder on its own: whatever the secret, it never survives into the file.

A client unit test (an in-memory transport that echoes each request's headers back in the
answer's body, so a secret is both sent and answered), with hypothesis drawing the secrets.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from short_jobs import AkSkAuth, TokenAuth
from short_jobs.conformance.har import REDACTED, Recorder

# What a header value can carry: visible ASCII (RFC 9110 field-vchar), and long enough to be a
# credential (the recorder does not sweep values under 6 characters: they would match prose).
secrets = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=6, max_size=40)
# Access keys are 20 upper-case letters and digits, secret keys 40 letters and digits; 16 or more
# keeps a drawn key from matching ordinary text in the exchange (a date of zeros, say).
keys = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=16, max_size=40
)


def _echo(request: httpx.Request) -> httpx.Response:
    upload = "https://bucket.obs.example.com/k.zip?AccessKeyId=AKOBS123&Expires=1&Signature=c2ln%3D"
    body = {"headers": dict(request.headers), "data_uploading_url": upload}
    return httpx.Response(200, json=body, headers={"X-Request-Id": "r1"})


def _recorded(auth: httpx.Auth, headers: dict[str, str]) -> str:
    recorder = Recorder()
    transport = httpx.MockTransport(_echo)
    client = httpx.Client(transport=transport, auth=auth, event_hooks=recorder.hooks())
    with client, recorder.step("probe"):
        client.get("https://api.example.com/v1/p/x", headers=headers)
    return json.dumps(recorder.har())


@given(token=secrets, security_token=secrets)
@example(token="headers", security_token="REDACTED-not")  # a secret that is also a HAR key
def test_no_token_survives(token: str, security_token: str) -> None:
    text = _recorded(TokenAuth(token), {"X-Security-Token": security_token})
    document = json.loads(text)
    assert len(document["log"]["entries"]) == 1
    for secret in (token, security_token):
        assert not any(secret in value for value in _strings(document))


@given(ak=keys, sk=keys)
def test_no_signature_survives(ak: str, sk: str) -> None:
    sent: list[str] = []

    class Spy(AkSkAuth):
        def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
            for signed in super().auth_flow(request):
                sent.append(signed.headers["Authorization"])
                yield signed

    text = _recorded(Spy(ak, sk, "p"), {})
    signature = sent[0].rsplit("Signature=", 1)[1]
    document = json.loads(text)
    for secret in (ak, sk, signature, "AKOBS123", "c2ln%3D", "c2ln="):
        assert not any(secret in value for value in _strings(document))
    headers = document["log"]["entries"][0]["request"]["headers"]
    authorization = next(h["value"] for h in headers if h["name"] == "authorization")
    assert f"Signature={REDACTED}" in authorization
    assert "SignedHeaders=" in authorization


def test_the_upload_urls_credentials_are_scrubbed_in_bodies_and_urls() -> None:
    text = _recorded(TokenAuth("a-long-token-value"), {})
    assert f"AccessKeyId={REDACTED}" in text
    assert f"Signature={REDACTED}" in text
    assert quote("c2ln=", safe="") not in text


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


@pytest.mark.parametrize("header", ["Cookie", "Proxy-Authorization", "X-Auth-Token"])
def test_other_credential_headers_are_scrubbed(header: str) -> None:
    text = _recorded(TokenAuth("a-long-token-value"), {header: "credential-1234"})
    assert "credential-1234" not in text
