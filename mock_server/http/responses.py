"""Our answers in connexion's own response type, for its error handlers."""

from __future__ import annotations

from connexion.lifecycle import ConnexionResponse

from mock_server.core.asgi import Answer


def connexion_response(answer: Answer, extra: dict[str, str] | None = None) -> ConnexionResponse:
    """`answer` (rendered from an error table) as connexion's error handlers must answer: its
    own type, the body and headers unchanged (connexion sets Content-Length itself), plus
    `extra` headers."""
    headers = {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in answer.raw_headers
        if name != b"content-length"
    }
    headers.update(extra or {})
    return ConnexionResponse(
        status_code=answer.status,
        mimetype="application/json",
        body=answer.body,
        headers=headers,
    )
