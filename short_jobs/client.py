"""The facade: ``ShortJobs`` (sync) and ``AsyncShortJobs`` (async), the package's entry point.

::

    sj = ShortJobs("cn-north-4", project_id=..., ak=..., sk=...)   # or token=...
    job = sj.create(language="CN")              # CreateShortJobResponse
    sj.upload(job, "recordings.zip")             # streamed PUT to the pre-signed URL
    sj.commit(job.job_id)
    detail = sj.wait(job.job_id, timeout=600)    # ShowShortJobResponse, SUCCEED
    detail = sj.assess("recordings/")            # all of the above, zipping WAV files first

Every API call goes through the generated client (``short_jobs_client``): the facade never builds
a request the generated code already builds. It only installs the auth (an ``httpx.Auth`` on the
httpx client it hands to the generated ``Client``), turns each generated ``Response`` into the
generated model or a :mod:`short_jobs.errors` exception, and adds what the generated code cannot
know: retries (:mod:`short_jobs.retry`), polling, zipping and the upload, which goes to a
pre-signed OBS URL outside the contract, through a separate plain httpx client so that neither
the AK/SK signature nor the token ever leaves for the storage service.

The two facades are one piece of code: ``AsyncShortJobs`` is written in
:mod:`short_jobs._async.facade`, and ``ShortJobs`` is generated from it (``make unasync``), so
they take the same arguments and behave alike.

Forward compatible: a state, job type or language this client does not know (a newer service's)
is kept, not refused: ``detail.state`` is then a ``JobState`` whose ``.value`` is the raw string
(``"QUEUED_FOR_GPU"``) and ``.is_known`` is False; ``wait`` treats it as "not final yet". New
fields land in the model's ``additional_properties``.

Credentials, when not passed: ``HUAWEICLOUD_SDK_AK``, ``HUAWEICLOUD_SDK_SK`` and
``HUAWEICLOUD_SDK_PROJECT_ID`` (the official SDK's variables; with temporary AK/SK also
``HUAWEICLOUD_SDK_SECURITY_TOKEN``, read only when the AK comes from the environment too), else
``HUAWEICLOUD_SDK_TOKEN``
(this toolkit's addition in the same style: the official SDK has no token auth). The endpoint
falls back to ``SHORT_JOBS_ENDPOINT``. Explicit arguments win over the environment (a token
passed leaves the AK/SK variables unread), and AK/SK wins over a token when both are only in
the environment.
"""

from __future__ import annotations

from short_jobs._async.facade import AsyncShortJobs
from short_jobs._base import (
    AK_ENV,
    COMMIT_GRACE,
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    POLL_CAP,
    POLL_START,
    PROJECT_ID_ENV,
    SECURITY_TOKEN_ENV,
    SK_ENV,
    TOKEN_ENV,
    OnCreated,
    OnPoll,
    Settings,
)
from short_jobs._sync.facade import ShortJobs

__all__ = [
    "AK_ENV",
    "COMMIT_GRACE",
    "DEFAULT_HTTP_TIMEOUT",
    "DEFAULT_WAIT_TIMEOUT",
    "POLL_CAP",
    "POLL_START",
    "PROJECT_ID_ENV",
    "SECURITY_TOKEN_ENV",
    "SK_ENV",
    "TOKEN_ENV",
    "AsyncShortJobs",
    "OnCreated",
    "OnPoll",
    "Settings",
    "ShortJobs",
]
