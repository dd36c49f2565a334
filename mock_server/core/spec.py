"""The contract, read once: `openapi.yaml` (the emulated API) and `control.yaml` (the test-only
control plane)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml

# mock_server/: where the mock's own specs (control.yaml, iam.yaml) live, and a wheel's openapi.yaml
PACKAGE = Path(__file__).resolve().parent.parent


def spec_path() -> Path:
    """The contract: packaged in `mock_server/` in a wheel, at the repository root otherwise."""
    for candidate in (PACKAGE / "openapi.yaml", PACKAGE.parent / "openapi.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("openapi.yaml is neither in the package nor beside it")


def control_spec_path() -> Path:
    return PACKAGE / "control.yaml"


def iam_spec_path() -> Path:
    return PACKAGE / "iam.yaml"


def _load(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's C loader: 10x faster
    document: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    return document


@functools.cache
def spec_document() -> dict[str, Any]:
    """openapi.yaml, parsed once per process. Callers must not change it (connexion gets a copy)."""
    return _load(spec_path())


@functools.cache
def control_document() -> dict[str, Any]:
    """control.yaml, parsed once per process."""
    return _load(control_spec_path())


@functools.cache
def iam_spec_document() -> dict[str, Any]:
    """iam.yaml, parsed once per process."""
    return _load(iam_spec_path())
