from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.create_short_job_req import CreateShortJobReq
from ...models.create_short_job_response import CreateShortJobResponse
from ...models.error_response import ErrorResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    project_id: str,
    *,
    body: CreateShortJobReq,
    x_app_user_id: str | Unset = UNSET,
    x_project_id: str | Unset = UNSET,
    x_sdk_date: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_app_user_id, Unset):
        headers["X-App-UserId"] = x_app_user_id

    if not isinstance(x_project_id, Unset):
        headers["X-Project-Id"] = x_project_id

    if not isinstance(x_sdk_date, Unset):
        headers["X-Sdk-Date"] = x_sdk_date

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/{project_id}/voice-training-manage/user/short-jobs".format(
            project_id=quote(str(project_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CreateShortJobResponse | ErrorResponse | None:
    if response.status_code == 200:
        response_200 = CreateShortJobResponse.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ErrorResponse.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CreateShortJobResponse | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    project_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CreateShortJobReq,
    x_app_user_id: str | Unset = UNSET,
    x_project_id: str | Unset = UNSET,
    x_sdk_date: str | Unset = UNSET,
) -> Response[CreateShortJobResponse | ErrorResponse]:
    """Create a short job

     Creates a job in state `CREATING` and answers its id with a pre-signed URL to upload the
    recordings to (PUT, `Content-Type: application/zip`). Nothing is assessed before
    `commit_short_job`.

    Args:
        project_id (str):
        x_app_user_id (str | Unset):
        x_project_id (str | Unset):
        x_sdk_date (str | Unset):
        body (CreateShortJobReq): What job to create.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreateShortJobResponse | ErrorResponse]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        body=body,
        x_app_user_id=x_app_user_id,
        x_project_id=x_project_id,
        x_sdk_date=x_sdk_date,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    project_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CreateShortJobReq,
    x_app_user_id: str | Unset = UNSET,
    x_project_id: str | Unset = UNSET,
    x_sdk_date: str | Unset = UNSET,
) -> CreateShortJobResponse | ErrorResponse | None:
    """Create a short job

     Creates a job in state `CREATING` and answers its id with a pre-signed URL to upload the
    recordings to (PUT, `Content-Type: application/zip`). Nothing is assessed before
    `commit_short_job`.

    Args:
        project_id (str):
        x_app_user_id (str | Unset):
        x_project_id (str | Unset):
        x_sdk_date (str | Unset):
        body (CreateShortJobReq): What job to create.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreateShortJobResponse | ErrorResponse
    """

    return sync_detailed(
        project_id=project_id,
        client=client,
        body=body,
        x_app_user_id=x_app_user_id,
        x_project_id=x_project_id,
        x_sdk_date=x_sdk_date,
    ).parsed


async def asyncio_detailed(
    project_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CreateShortJobReq,
    x_app_user_id: str | Unset = UNSET,
    x_project_id: str | Unset = UNSET,
    x_sdk_date: str | Unset = UNSET,
) -> Response[CreateShortJobResponse | ErrorResponse]:
    """Create a short job

     Creates a job in state `CREATING` and answers its id with a pre-signed URL to upload the
    recordings to (PUT, `Content-Type: application/zip`). Nothing is assessed before
    `commit_short_job`.

    Args:
        project_id (str):
        x_app_user_id (str | Unset):
        x_project_id (str | Unset):
        x_sdk_date (str | Unset):
        body (CreateShortJobReq): What job to create.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CreateShortJobResponse | ErrorResponse]
    """

    kwargs = _get_kwargs(
        project_id=project_id,
        body=body,
        x_app_user_id=x_app_user_id,
        x_project_id=x_project_id,
        x_sdk_date=x_sdk_date,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    project_id: str,
    *,
    client: AuthenticatedClient | Client,
    body: CreateShortJobReq,
    x_app_user_id: str | Unset = UNSET,
    x_project_id: str | Unset = UNSET,
    x_sdk_date: str | Unset = UNSET,
) -> CreateShortJobResponse | ErrorResponse | None:
    """Create a short job

     Creates a job in state `CREATING` and answers its id with a pre-signed URL to upload the
    recordings to (PUT, `Content-Type: application/zip`). Nothing is assessed before
    `commit_short_job`.

    Args:
        project_id (str):
        x_app_user_id (str | Unset):
        x_project_id (str | Unset):
        x_sdk_date (str | Unset):
        body (CreateShortJobReq): What job to create.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CreateShortJobResponse | ErrorResponse
    """

    return (
        await asyncio_detailed(
            project_id=project_id,
            client=client,
            body=body,
            x_app_user_id=x_app_user_id,
            x_project_id=x_project_id,
            x_sdk_date=x_sdk_date,
        )
    ).parsed
