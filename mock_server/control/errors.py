"""The control plane's own codes: answers of the mock's test-only routes (`/_mock/...`) that no
service has, in the service's shape (`core.errors.render`). The API's table is `core.errors`."""

from __future__ import annotations

from mock_server.core.errors import Code


class ControlCodes:
    """Codes only the control plane answers (prefix `MOCK.`, which no Huawei service uses)."""

    # A cross-site request or a foreign Host name (mock_server.control.guard).
    CROSS_SITE = Code(403, "MOCK.00000403", "The mock's control plane refuses this request")
