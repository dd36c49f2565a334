"""`httpx.get`, `httpx.put`, ... and `httpx.Client` for the tests, with one SSL context for all.

httpx builds an SSL context for every client, loading the CA bundle afresh (about 20 ms, several
times that on a busy machine), and its top-level functions build a client per call: in the
suite's loops and property tests that was seconds of CPU per test, for URLs that are plain http
on 127.0.0.1. These behave as httpx's own (a new client per call: no pooled connection, no
cookie kept from one call to the next), but share `TLS`, built once.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["TLS", "async_client", "client", "delete", "get", "post", "put", "request"]

TLS = httpx.create_ssl_context()


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, verify=TLS, **kwargs)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, verify=TLS, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, verify=TLS, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.put(url, verify=TLS, **kwargs)


def delete(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.delete(url, verify=TLS, **kwargs)


def client(**kwargs: Any) -> httpx.Client:
    return httpx.Client(verify=TLS, **kwargs)


def async_client(**kwargs: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(verify=TLS, **kwargs)
