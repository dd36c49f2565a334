"""The reference's rules for an answer, where the spec cannot say them.

- ``status``, ``error-code``: the answer a statement expects (e.g. 400 ``MSS.00000003``).
- ``error-shape``: an error answer is ``{"error_code": str, "error_msg": str}`` (reference
  section 2); checked here for statuses the spec does not declare (declared ones are checked
  against their schema by :mod:`.spec`).
- ``code-family``: the error code belongs to its status's family (400 ``MSS.*``, 401
  ``APIGW.0301``, 404 ``APIGW.0101``... :data:`.statements.CODE_FAMILIES`).
- ``gateway-request-id``: a gateway error (``APIGW.*`` / ``APIG.*``) carries ``request_id`` in its
  body (reference section 2).
- ``obs-error``: the upload URL's refusals are OBS XML ``<Error>`` documents with ``Code``,
  ``Message`` and ``RequestId`` (reference section 4).
"""

from __future__ import annotations

from xml.etree import ElementTree

from short_jobs.conformance.exchange import Exchange, Finding
from short_jobs.conformance.statements import CODE_FAMILIES, GATEWAY_CODE, UPLOAD, Statement

__all__ = ["error_code", "reference_checks"]

_MAX_XML = 64 * 1024
_OBS_FIELDS = ("Code", "Message", "RequestId")


def _obs_error(exchange: Exchange) -> ElementTree.Element | None:
    if len(exchange.body) > _MAX_XML:
        return None
    try:
        root = ElementTree.fromstring(exchange.body)
    except ElementTree.ParseError:
        return None
    return root if root.tag == "Error" else None


def error_code(exchange: Exchange, operation: str) -> str | None:
    """The answer's error code: JSON ``error_code``, or the OBS XML ``Code`` for uploads."""
    if operation == UPLOAD:
        root = _obs_error(exchange)
        return None if root is None else root.findtext("Code")
    code = exchange.json_object().get("error_code")
    return code if isinstance(code, str) else None


def reference_checks(statement: Statement, exchange: Exchange, declared: bool) -> list[Finding]:
    """The findings for one answer; ``declared``: the spec declares its status."""
    found: list[Finding] = []
    if exchange.status not in statement.status:
        found.append(Finding("status", " or ".join(map(str, statement.status)), exchange.summary()))
    code = error_code(exchange, statement.operation)
    if exchange.status >= 400:
        if statement.operation == UPLOAD:
            found += _obs_shape(exchange)
        else:
            found += _api_error(exchange, code, declared)
    if statement.error_code is not None and not (code and statement.error_code.fullmatch(code)):
        found.append(Finding("error-code", statement.error_code.pattern, str(code)))
    return found


def _api_error(exchange: Exchange, code: str | None, declared: bool) -> list[Finding]:
    body = exchange.json_object()
    found: list[Finding] = []
    shaped = isinstance(body.get("error_code"), str) and isinstance(body.get("error_msg"), str)
    if not declared and not shaped:
        found.append(
            Finding("error-shape", '{"error_code": str, "error_msg": str}', _short(exchange))
        )
    family = CODE_FAMILIES.get(exchange.status)
    if code is not None and family is not None and not family.fullmatch(code):
        found.append(Finding("code-family", f"{exchange.status} with {family.pattern}", code))
    if (
        code is not None
        and GATEWAY_CODE.fullmatch(code)
        and not isinstance(body.get("request_id"), str)
    ):
        found.append(Finding("gateway-request-id", "request_id in the body", "none"))
    return found


def _obs_shape(exchange: Exchange) -> list[Finding]:
    root = _obs_error(exchange)
    if root is None:
        return [Finding("obs-error", "an OBS XML <Error> document", _short(exchange))]
    missing = [name for name in _OBS_FIELDS if root.find(name) is None]
    if missing:
        return [Finding("obs-error", "<Error> with Code, Message, RequestId", f"no {missing}")]
    return []


def _short(exchange: Exchange) -> str:
    text = exchange.body[:80].decode("utf-8", "replace")
    return repr(text) if text else "an empty body"
