"""The official Node core's sign-in against the mock's IAM (project id and domain id discovery).

Needs `node` and `@huaweicloud/huaweicloud-sdk-core` installed somewhere: point
`HUAWEICLOUD_NODE_MODULES` at that `node_modules` (e.g. `npm install --prefix /tmp/node
@huaweicloud/huaweicloud-sdk-core@3.1.211 uuid@9`, then `/tmp/node/node_modules`: core 3.1.211
requires `uuid` without declaring it); skipped otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mock_server.faces.fixture import MockHandle
from mock_server.iam.model import Account

_SCRIPT = """
const core = require('@huaweicloud/huaweicloud-sdk-core');
const { ClientBuilder } = require('@huaweicloud/huaweicloud-sdk-core/ClientBuilder');
const [url, iam, ak, sk, region] = process.argv.slice(1);
(async () => {
  const basic = new core.BasicCredentials().withAk(ak).withSk(sk).withIamEndpoint(iam);
  const client = new ClientBuilder((c) => c, 'BasicCredentials')
    .withCredential(basic).withEndpoint(url).build();
  await basic.processAuthParams(client, region);
  const global = new core.GlobalCredentials().withAk(ak).withSk(sk).withIamEndpoint(iam);
  await global.processAuthParams(client, region);
  console.log(JSON.stringify({project_id: basic.projectId, domain_id: global.domainId}));
})().catch((e) => { console.error(e && (e.errorMsg || e.message || e)); process.exit(1); });
"""


def _node_modules() -> Path:
    where = os.environ.get("HUAWEICLOUD_NODE_MODULES")
    node = shutil.which("node")
    if not where or node is None:
        pytest.skip("set HUAWEICLOUD_NODE_MODULES to a node_modules with the Node core")
    path = Path(where)
    if not (path / "@huaweicloud" / "huaweicloud-sdk-core").is_dir():
        pytest.skip(f"no @huaweicloud/huaweicloud-sdk-core under {path}")
    return path


@pytest.mark.slow
def test_the_node_core_discovers_project_and_domain(short_jobs_mock: MockHandle) -> None:
    modules = _node_modules()
    m = short_jobs_mock
    done = subprocess.run(
        ["node", "-e", _SCRIPT, m.url, m.iam_url, m.ak, m.sk, m.region],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["project_id"] == m.project_id
    assert found["domain_id"] == Account.from_settings(m.settings).domain_id
