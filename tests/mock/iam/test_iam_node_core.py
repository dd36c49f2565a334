"""The official Node core's sign-in against the mock's IAM (project id and domain id discovery),
and, for a region with no project, its auto-creation followed by real API calls under the
created project (the core signs them, with the project id it got from IAM).

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
from typing import Any
from urllib.parse import urlsplit

import plain_http
import pytest

from mock_server.faces.fixture import MockHandle
from mock_server.iam.model import Account
from short_jobs.signing import sign_request

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


# A service client as the generated SDKs build one: the region's endpoint is the mock, the
# credentials have no project id, so the first request asks IAM for the region's project (and
# creates it when there is none), then fills `{project_id}` and signs the request.
_JOB_SCRIPT = """
const core = require('@huaweicloud/huaweicloud-sdk-core');
const { ClientBuilder } = require('@huaweicloud/huaweicloud-sdk-core/ClientBuilder');
const { Region } = require('@huaweicloud/huaweicloud-sdk-core/region/region');
const [url, iam, ak, sk, region] = process.argv.slice(1);
const path = '/v1/{project_id}/voice-training-manage/user/short-jobs';
(async () => {
  const basic = new core.BasicCredentials().withAk(ak).withSk(sk).withIamEndpoint(iam);
  const client = new ClientBuilder((c) => c, 'BasicCredentials')
    .withCredential(basic).withRegion(new Region(region, url)).build();
  const created = await client.sendRequest({method: 'POST', url: path, pathParams: {},
    headers: {}, contentType: 'application/json', data: {job_type: 'VOICE_ASSESS'}});
  const shown = await client.sendRequest({method: 'GET', url: path + '/' + created.job_id,
    pathParams: {}, headers: {}});
  console.log(JSON.stringify({project_id: basic.projectId, created, shown}));
})().catch((e) => { console.error(e && (e.errorMsg || e.message || e)); process.exit(1); });
"""


def _node(script: str, *args: str) -> dict[str, Any]:
    """Run `script` with `args` under node; its last line of output, parsed."""
    modules = _node_modules()
    done = subprocess.run(
        ["node", "-e", script, *args],
        env={**os.environ, "NODE_PATH": str(modules)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


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
    m = short_jobs_mock
    found = _node(_SCRIPT, m.url, m.iam_url, m.ak, m.sk, m.region)
    assert found["project_id"] == m.project_id
    assert found["domain_id"] == Account.from_settings(m.settings).domain_id


@pytest.mark.slow
def test_the_node_core_creates_a_regions_project_and_runs_a_job_under_it(
    short_jobs_mock: MockHandle,
) -> None:
    m = short_jobs_mock
    region = "cn-east-3"  # a public region the mock's account has no project in
    assert region != m.region
    found = _node(_JOB_SCRIPT, m.url, m.iam_url, m.ak, m.sk, region)
    project = found["project_id"]
    assert project and project != m.project_id
    # IAM created it, by the calls the core makes (issue 21: the Node core's iam.service)
    calls = [(e["method"], e["path"]) for e in m.requests("iam")]
    assert ("GET", "/v3/regions") in calls and ("POST", "/v3/projects") in calls
    # the API answered the core as for a real job, under the created project
    created, shown = found["created"], found["shown"]
    assert created["httpStatusCode"] == 200, created
    assert created["data_uploading_url"].startswith(m.url)
    assert f"/{project}/" in created["data_uploading_url"]
    assert shown["httpStatusCode"] == 200, shown
    assert (shown["job_id"], shown["state"]) == (created["job_id"], "CREATING")
    # and the job is the mock's: shown again over plain HTTP, signed with the account's AK/SK
    path = f"/v1/{project}/voice-training-manage/user/short-jobs/{created['job_id']}"
    headers = {"Host": urlsplit(m.url).netloc}
    headers.update(sign_request("GET", path, headers, b"", m.ak, m.sk))
    again = plain_http.get(m.url + path, headers=headers, timeout=30)
    assert again.status_code == 200 and again.json()["job_id"] == created["job_id"]
    journal = m.requests(job_id=created["job_id"])
    assert [(e["method"], e["status"]) for e in journal] == [
        ("POST", 200),
        ("GET", 200),
        ("GET", 200),
    ]
