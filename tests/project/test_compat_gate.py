"""`make check-compat` (scripts/check_compat.py) against planted changes of a copy of the contract.

Every kind of break docs/compatibility.md names is planted in a copy of `openapi.yaml` and must be
found; the removals are planted everywhere they can be (each property of each schema, each enum
value), not at one chosen spot. Additive changes must pass. The command itself is run once on the
real pair of files (`make check-compat`'s), once on a broken copy.
"""

from __future__ import annotations

import copy
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

SCRIPT = ROOT / "scripts" / "check_compat.py"
LAST_RELEASE = ROOT / "docs" / "releases" / "openapi-0.1.0.yaml"
CREATE = "/v1/{project_id}/voice-training-manage/user/short-jobs"
JOB = "/v1/{project_id}/voice-training-manage/user/short-jobs/{job_id}"

Doc = dict[str, Any]


def _load_gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_compat", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gate = _load_gate()
SPEC: Doc = yaml.safe_load((ROOT / "openapi.yaml").read_text("utf-8"))
SCHEMAS: dict[str, Doc] = SPEC["components"]["schemas"]


def planted(change: Callable[[Doc], object]) -> Doc:
    document = copy.deepcopy(SPEC)
    change(document)
    return document


def breaks(change: Callable[[Doc], object]) -> list[str]:
    found: list[str] = gate.breaking_changes(SPEC, planted(change))
    return found


def schema(doc: Doc, name: str) -> Doc:
    found: Doc = doc["components"]["schemas"][name]
    return found


# -- the gate passes what the last release promised --------------------------------------------


def test_the_contract_keeps_the_last_releases_promises() -> None:
    last = yaml.safe_load(LAST_RELEASE.read_text("utf-8"))
    assert gate.breaking_changes(last, SPEC) == []


def test_an_unchanged_contract_has_no_change_at_all() -> None:
    assert gate.breaking_changes(SPEC, SPEC) == []
    assert gate.additive_changes(SPEC, SPEC) == []


# -- each kind of break, planted ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "method"),
    [(CREATE, "post"), (JOB, "post"), (JOB, "get")],
    ids=["create", "commit", "show"],
)
def test_a_removed_operation(path: str, method: str) -> None:
    found = breaks(lambda d: d["paths"][path].pop(method))
    assert found == [f"{method.upper()} {path}: operation removed"]


def test_a_renamed_operation_id() -> None:
    found = breaks(lambda d: d["paths"][JOB]["get"].update(operationId="get_short_job"))
    assert found == [f"GET {JOB}: operationId 'show_short_job' became 'get_short_job'"]


PROPERTIES = [(name, prop) for name, body in SCHEMAS.items() for prop in body.get("properties", {})]


@pytest.mark.parametrize(("name", "prop"), PROPERTIES, ids=[f"{n}.{p}" for n, p in PROPERTIES])
def test_a_removed_field_anywhere(name: str, prop: str) -> None:
    def remove(d: Doc) -> None:
        body = schema(d, name)
        del body["properties"][prop]
        if prop in body.get("required", []):
            body["required"].remove(prop)

    found = breaks(remove)
    assert found, f"removing {name}.{prop} passed the gate"
    assert all(f"property {prop} removed" in line for line in found), found


ENUM_VALUES = [(name, value) for name, body in SCHEMAS.items() for value in body.get("enum", [])]


@pytest.mark.parametrize(("name", "value"), ENUM_VALUES, ids=[f"{n}.{v}" for n, v in ENUM_VALUES])
def test_a_removed_enum_value_anywhere(name: str, value: str) -> None:
    found = breaks(lambda d: schema(d, name)["enum"].remove(value))
    assert found, f"removing {name} {value} passed the gate"
    assert all(f"enum value {value!r} removed" in line for line in found), found


def test_a_new_required_request_field() -> None:
    def add(d: Doc) -> None:
        body = schema(d, "CreateShortJobReq")
        body["properties"]["voice_name"] = {"type": "string"}
        body["required"].append("voice_name")

    assert breaks(add) == [
        f"POST {CREATE} request application/json: new required property voice_name"
    ]


def test_an_optional_request_field_made_required() -> None:
    found = breaks(lambda d: schema(d, "CreateShortJobReq")["required"].append("language"))
    assert found == [f"POST {CREATE} request application/json: property language made required"]


def test_a_new_required_parameter_and_an_optional_one_made_required() -> None:
    def new_query(d: Doc) -> None:
        d["paths"][JOB]["get"]["parameters"] = [
            {"name": "detail", "in": "query", "required": True, "schema": {"type": "string"}}
        ]

    assert breaks(new_query) == [f"GET {JOB}: new required query parameter detail"]
    found = breaks(lambda d: d["components"]["parameters"]["XAppUserId"].update(required=True))
    assert len(found) == 3 and all("parameter x-app-userid: made required" in f for f in found)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # what a client sends: accepted before, refused now
        (
            lambda d: schema(d, "ShortJobType").update(type="integer"),
            "job_type: type narrowed from string to integer",
        ),
        (
            lambda d: d["components"]["parameters"]["XAppUserId"]["schema"].update(maxLength=8),
            "parameter x-app-userid: maxLength tightened to 8",
        ),
        (
            lambda d: d["components"]["parameters"]["JobId"]["schema"].update(pattern="^[0-9]+$"),
            "parameter job_id: pattern",
        ),
        (
            lambda d: schema(d, "CreateShortJobReq").update(additionalProperties=False),
            "additionalProperties closed",
        ),
        # what a client reads: a type it never saw
        (
            lambda d: schema(d, "ShowShortJobResponse")["properties"]["create_time"].update(
                type="string", format="date-time"
            ),
            "create_time: type changed from integer to string",
        ),
    ],
    ids=["request-type", "max-length", "pattern", "closed-object", "response-type"],
)
def test_a_narrowed_type(change: Callable[[Doc], object], expected: str) -> None:
    found = breaks(change)
    assert any(expected in line for line in found), found


def test_a_removed_response_status_header_or_media_type() -> None:
    assert breaks(lambda d: d["paths"][JOB]["get"]["responses"].pop("429")) == [
        f"GET {JOB}: response 429 removed"
    ]
    found = breaks(lambda d: d["paths"][JOB]["get"]["responses"]["200"].pop("headers"))
    assert found == [f"GET {JOB} response 200: header x-request-id removed"]
    found = breaks(lambda d: d["paths"][CREATE]["post"]["requestBody"]["content"].clear())
    assert found == [f"POST {CREATE} request: media type application/json removed"]


def test_a_response_field_no_longer_required() -> None:
    found = breaks(lambda d: schema(d, "ShowShortJobResponse")["required"].remove("state"))
    assert found == [f"GET {JOB} response 200 application/json: property state no longer required"]


def test_a_removed_security_scheme() -> None:
    assert "security scheme Token: removed" in breaks(
        lambda d: d["components"]["securitySchemes"].pop("Token")
    )


# -- additive changes pass ---------------------------------------------------------------------


def additive(d: Doc) -> None:
    d["paths"]["/v1/{project_id}/voice-training-manage/user/short-jobs/{job_id}/cancel"] = {
        "post": {"operationId": "cancel_short_job", "responses": {"200": {"description": "ok"}}}
    }
    schema(d, "CreateShortJobReq")["properties"]["voice_name"] = {"type": "string"}
    schema(d, "ShowShortJobResponse")["properties"]["finish_time"] = {"type": "integer"}
    schema(d, "ShowShortJobResponse")["required"].append("job_type")
    schema(d, "JobState")["enum"].append("QUEUED_FOR_GPU")
    schema(d, "Language")["enum"].append("JA")
    d["paths"][JOB]["get"]["parameters"] = [
        {"name": "detail", "in": "query", "schema": {"type": "string"}}
    ]
    d["paths"][JOB]["get"]["responses"]["409"] = {"description": "conflict"}
    schema(d, "CreateShortJobReq")["properties"]["job_type"] = {
        "type": "string"  # any job type accepted: wider than the enum
    }


def test_additive_changes_pass_and_are_listed() -> None:
    new = planted(additive)
    assert gate.breaking_changes(SPEC, new) == []
    listed = "\n".join(gate.additive_changes(SPEC, new))
    for expected in (
        "new operation",
        "new property voice_name",
        "new property finish_time",
        "new enum value 'QUEUED_FOR_GPU'",
        "new enum value 'JA'",
        "new optional query parameter detail",
        "new response 409",
    ):
        assert expected in listed, listed


def test_a_recursive_schema_ends() -> None:
    def recursive(d: Doc) -> None:
        schema(d, "AssessResult")["properties"]["previous"] = {
            "$ref": "#/components/schemas/AssessResult"
        }

    old = planted(recursive)
    new = planted(recursive)
    schema(new, "AssessResult")["properties"].pop("speed")
    assert any("property speed removed" in line for line in gate.breaking_changes(old, new))


# -- the command ---------------------------------------------------------------------------------


def run_gate(old: Path, new: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(old), str(new)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
def test_the_command_passes_the_real_contract_and_fails_a_broken_copy(tmp_path: Path) -> None:
    done = run_gate(LAST_RELEASE, ROOT / "openapi.yaml")
    assert done.returncode == 0, done.stderr
    broken = tmp_path / "openapi.yaml"
    broken.write_text(
        yaml.safe_dump(planted(lambda d: schema(d, "Language")["enum"].remove("EN"))), "utf-8"
    )
    done = run_gate(LAST_RELEASE, broken)
    assert done.returncode == 1
    assert "BREAKING: " in done.stderr and "enum value 'EN' removed" in done.stderr
    assert run_gate(tmp_path / "missing.yaml", broken).returncode == 2


# -- the family: any mix of additive changes passes, any removal among them still fails -------

OBJECTS = sorted(name for name, body in SCHEMAS.items() if body.get("type") == "object")
ENUMS = sorted(name for name, body in SCHEMAS.items() if "enum" in body)
NEW_NAMES = st.from_regex(r"x_[a-z]{1,8}", fullmatch=True)
TYPES = st.sampled_from(["string", "integer", "number", "boolean", "object"])


@st.composite
def additive_edits(draw: st.DrawFn) -> list[tuple[str, str, str, str]]:
    """(kind, schema, name, type) edits that only add: optional properties, enum values."""
    edits = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            edits.append(("property", draw(st.sampled_from(OBJECTS)), draw(NEW_NAMES), draw(TYPES)))
        else:
            edits.append(("enum", draw(st.sampled_from(ENUMS)), draw(NEW_NAMES).upper(), ""))
    return edits


def apply(d: Doc, edits: list[tuple[str, str, str, str]]) -> None:
    for kind, name, new, kind_of in edits:
        body = schema(d, name)
        if kind == "property":
            body.setdefault("properties", {})[new] = {"type": kind_of}
        elif new not in body["enum"]:
            body["enum"].append(new)


@settings(max_examples=60, deadline=None)
@given(edits=additive_edits())
def test_any_mix_of_additive_changes_passes(edits: list[tuple[str, str, str, str]]) -> None:
    assert gate.breaking_changes(SPEC, planted(lambda d: apply(d, edits))) == []


@settings(max_examples=60, deadline=None)
@given(edits=additive_edits(), removed=st.sampled_from(PROPERTIES))
def test_a_removal_is_found_among_additive_changes(
    edits: list[tuple[str, str, str, str]], removed: tuple[str, str]
) -> None:
    def change(d: Doc) -> None:
        apply(d, edits)
        body = schema(d, removed[0])
        del body["properties"][removed[1]]
        if removed[1] in body.get("required", []):
            body["required"].remove(removed[1])

    found = breaks(change)
    assert found and all(f"property {removed[1]} removed" in line for line in found), found
