"""One TLS context per CA setting, shared by every client of the process (short_jobs.environment).

Loading a CA bundle is most of what building an httpx client costs (~90 ms); `tls_verify` builds
the context once per setting. The invariant: whatever the setting (SSL_CERT_FILE, SSL_CERT_DIR,
neither; a bundle replaced in place), every client gets a context that trusts exactly the
certificates httpx itself would have loaded for that setting, and `verify=False` or a caller's own
context pass through untouched.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from short_jobs import ShortJobs
from short_jobs.environment import tls_verify

pytestmark = pytest.mark.usefixtures("clean_client_env")

ENDPOINT = "http://127.0.0.1:9"
END = "-----END CERTIFICATE-----\n"


def _pem_blocks() -> list[str]:
    import certifi

    text = Path(certifi.where()).read_text(encoding="ascii", errors="replace")
    return [block + END for block in text.split(END) if "BEGIN CERTIFICATE" in block]


BLOCKS = _pem_blocks()


@pytest.fixture(autouse=True)
def _no_inherited_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)


def _trusted(context: ssl.SSLContext) -> list[bytes]:
    return sorted(cert for cert in context.get_ca_certs(binary_form=True))


def _bundle(path: Path, count: int) -> Path:
    path.write_text("".join(BLOCKS[:count]), encoding="ascii")
    return path


def test_every_client_of_a_setting_shares_one_context() -> None:
    first, second = tls_verify(True), tls_verify(True)
    assert isinstance(first, ssl.SSLContext) and first is second
    one = ShortJobs(ENDPOINT, project_id="p", token="t")
    two = ShortJobs(ENDPOINT, project_id="p", token="t")
    with one, two:
        assert one._verify is two._verify is first


def test_verify_off_and_a_callers_context_pass_through() -> None:
    own = ssl.create_default_context()
    assert tls_verify(False) is False
    assert tls_verify(own) is own


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["none", "file", "dir", "replace"]), st.integers(1, 6)),
        min_size=1,
        max_size=5,
    )
)
def test_the_shared_context_trusts_what_httpx_would_load(
    steps: list[tuple[str, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    where = tmp_path_factory.mktemp("ca")
    bundle = where / "bundle.pem"
    saved = {name: os.environ.get(name) for name in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    try:
        for kind, count in steps:
            os.environ.pop("SSL_CERT_FILE", None)
            os.environ.pop("SSL_CERT_DIR", None)
            if kind in ("file", "replace"):
                if kind == "replace" or not bundle.exists():
                    _bundle(bundle, count)  # replaced in place: its size changes
                os.environ["SSL_CERT_FILE"] = str(bundle)
            elif kind == "dir":
                os.environ["SSL_CERT_DIR"] = str(where)
            shared = tls_verify(True)
            assert isinstance(shared, ssl.SSLContext)
            assert _trusted(shared) == _trusted(httpx.create_ssl_context(trust_env=True)), kind
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value
