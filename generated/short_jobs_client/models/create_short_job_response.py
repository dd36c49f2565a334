from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, Generator, TextIO, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateShortJobResponse")


@_attrs_define
class CreateShortJobResponse:
    """A created job and where to upload its recordings.

    Attributes:
        job_id (str): The job id, a lower-case dashed UUID (treat it as an opaque string). Example:
            26f06524-4f75-4b3a-a853-b649a21aaf66.
        data_uploading_url (str): OBS V2 pre-signed URL to PUT the zip of recordings to, with
            `Content-Type: application/zip`; valid for a limited time.
             Example: https://bucket.obs.cn-north-4.myhuaweicloud.com/voice/26f06524-4f75-4b3a-a853-
            b649a21aaf66/recordings.zip?AccessKeyId=AK&Expires=1764003600&Signature=abc%3D.
    """

    job_id: str
    data_uploading_url: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job_id = self.job_id

        data_uploading_url = self.data_uploading_url

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
                "data_uploading_url": data_uploading_url,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        job_id = d.pop("job_id")

        data_uploading_url = d.pop("data_uploading_url")

        create_short_job_response = cls(
            job_id=job_id,
            data_uploading_url=data_uploading_url,
        )

        create_short_job_response.additional_properties = d
        return create_short_job_response

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
