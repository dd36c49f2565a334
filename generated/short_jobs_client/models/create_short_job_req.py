from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, Generator, TextIO, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.language import Language
from ..models.short_job_type import ShortJobType
from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateShortJobReq")


@_attrs_define
class CreateShortJobReq:
    """What job to create.

    Attributes:
        job_type (ShortJobType): The job type. `VOICE_ASSESS` assesses the audio quality of recordings.
        language (Language | Unset): The language of the recordings, `CN` (Chinese) or `EN` (English). Default:
            Language.CN.
    """

    job_type: ShortJobType
    language: Language | Unset = Language.CN
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        job_type = self.job_type.value

        language: str | Unset = UNSET
        if not isinstance(self.language, Unset):
            language = self.language.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_type": job_type,
            }
        )
        if language is not UNSET:
            field_dict["language"] = language

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        job_type = ShortJobType(d.pop("job_type"))

        _language = d.pop("language", UNSET)
        language: Language | Unset
        if isinstance(_language, Unset):
            language = UNSET
        else:
            language = Language(_language)

        create_short_job_req = cls(
            job_type=job_type,
            language=language,
        )

        create_short_job_req.additional_properties = d
        return create_short_job_req

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
