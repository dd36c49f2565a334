"""The spec describes exactly the service the official SDK knows: same fields, types and enums.

The SDK's models carry `openapi_types` (field -> type name) and, for enums, class constants; both
are read from the installed `huaweicloudsdkmetastudio`, so an SDK upgrade that adds a field fails.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import ROOT

SPEC_PATH = ROOT / "openapi.yaml"
SDK_MODELS = "huaweicloudsdkmetastudio.v1.model"
OBJECT_MODELS = {
    # our schema name -> the SDK's module
    "CreateShortJobReq": "create_short_job_req",
    "CreateShortJobResponse": "create_short_job_response",
    "ShowShortJobResponse": "show_short_job_response",
    "AssessResult": "assess_result",
    "AssessProperty": "assess_property",
}
ENUM_MODELS = {"JobState": "job_state", "ShortJobType": "short_job_type"}
SDK_SCALARS = {"str": "string", "int": "integer", "bool": "boolean", "float": "number"}


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    result: dict[str, Any] = spec["components"]["schemas"]
    return result


def _sdk_class(module: str) -> Any:
    mod = importlib.import_module(f"{SDK_MODELS}.{module}")
    name = "".join(part.capitalize() for part in module.split("_"))
    return getattr(mod, name)


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> tuple[str, str | None]:
    """(JSON type, referenced schema name or None) of a property, through `$ref` and `allOf`."""
    if "allOf" in schema:
        (only,) = schema["allOf"]
        return _resolve(only, schemas)
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        target = schemas[name]
        return target["type"], name
    return schema["type"], None


@pytest.mark.parametrize(("ours", "module"), OBJECT_MODELS.items())
def test_object_schema_has_exactly_the_sdk_fields_and_types(
    ours: str, module: str, schemas: dict[str, Any]
) -> None:
    sdk_types: dict[str, str] = _sdk_class(module).openapi_types
    properties: dict[str, Any] = schemas[ours]["properties"]
    assert set(properties) == set(sdk_types)
    for field, sdk_type in sdk_types.items():
        json_type, ref = _resolve(properties[field], schemas)
        if sdk_type in SDK_SCALARS:
            assert json_type == SDK_SCALARS[sdk_type], field
        else:
            assert ref == sdk_type, field


@pytest.mark.parametrize(("ours", "module"), ENUM_MODELS.items())
def test_enum_schema_has_exactly_the_sdk_values(
    ours: str, module: str, schemas: dict[str, Any]
) -> None:
    cls = _sdk_class(module)
    sdk_values = {
        value for name, value in vars(cls).items() if name.isupper() and isinstance(value, str)
    }
    assert sdk_values
    assert schemas[ours]["type"] == "string"
    assert set(schemas[ours]["enum"]) == sdk_values
    assert len(schemas[ours]["enum"]) == len(sdk_values)


def test_the_create_body_requires_job_type_and_defaults_language(schemas: dict[str, Any]) -> None:
    body = schemas["CreateShortJobReq"]
    assert body["required"] == ["job_type"]
    assert body["properties"]["language"]["default"] == "CN"
    assert set(schemas["Language"]["enum"]) == {"CN", "EN"}


def test_the_spec_has_only_the_services_operations() -> None:
    spec = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    operations = {
        (method.upper(), path, op["operationId"])
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method != "parameters"
    }
    collection = "/v1/{project_id}/voice-training-manage/user/short-jobs"
    assert operations == {
        ("POST", collection, "create_short_job"),
        ("POST", collection + "/{job_id}", "commit_short_job"),
        ("GET", collection + "/{job_id}", "show_short_job"),
    }
    sdk_only_schemas = set(OBJECT_MODELS) | set(ENUM_MODELS)
    ours_beyond_sdk = {"Language", "ErrorResponse"}  # an SDK `str` enum, and the error body
    assert set(spec["components"]["schemas"]) == sdk_only_schemas | ours_beyond_sdk
