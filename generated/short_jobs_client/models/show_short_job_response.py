from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, Generator, TextIO, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.job_state import JobState
from ..models.short_job_type import ShortJobType
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.assess_result import AssessResult


T = TypeVar("T", bound="ShowShortJobResponse")


@_attrs_define
class ShowShortJobResponse:
    """A job's details.

    Attributes:
        job_id (str): The job id.
        state (JobState): The state of a job. A VOICE_ASSESS job goes `CREATING` (waiting for the upload and
            commit) -> `WAITING` -> `PROCESSING` -> `SUCCEED` or `FAILED`; the other values belong
            to other kinds of voice jobs.
        job_type (ShortJobType | Unset): The job type. `VOICE_ASSESS` assesses the audio quality of recordings.
        job_failed_code (str | Unset): Present when the job failed; the failure's code.
        job_failed_reason (str | Unset): Present when the job failed; why it failed.
        create_time (int | Unset): When the job was created, Unix seconds.
        lastupdate_time (int | Unset): When the job's state last changed, Unix seconds.
        assess_result (AssessResult | Unset): The assessment of a VOICE_ASSESS job's recordings.
    """

    job_id: str
    state: JobState
    job_type: ShortJobType | Unset = UNSET
    job_failed_code: str | Unset = UNSET
    job_failed_reason: str | Unset = UNSET
    create_time: int | Unset = UNSET
    lastupdate_time: int | Unset = UNSET
    assess_result: AssessResult | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.assess_result import AssessResult  # noqa: PLC0415

        job_id = self.job_id

        state = self.state.value

        job_type: str | Unset = UNSET
        if not isinstance(self.job_type, Unset):
            job_type = self.job_type.value

        job_failed_code = self.job_failed_code

        job_failed_reason = self.job_failed_reason

        create_time = self.create_time

        lastupdate_time = self.lastupdate_time

        assess_result: dict[str, Any] | Unset = UNSET
        if not isinstance(self.assess_result, Unset):
            assess_result = self.assess_result.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "job_id": job_id,
                "state": state,
            }
        )
        if job_type is not UNSET:
            field_dict["job_type"] = job_type
        if job_failed_code is not UNSET:
            field_dict["job_failed_code"] = job_failed_code
        if job_failed_reason is not UNSET:
            field_dict["job_failed_reason"] = job_failed_reason
        if create_time is not UNSET:
            field_dict["create_time"] = create_time
        if lastupdate_time is not UNSET:
            field_dict["lastupdate_time"] = lastupdate_time
        if assess_result is not UNSET:
            field_dict["assess_result"] = assess_result

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.assess_result import AssessResult  # noqa: PLC0415

        d = dict(src_dict)
        job_id = d.pop("job_id")

        state = JobState(d.pop("state"))

        _job_type = d.pop("job_type", UNSET)
        job_type: ShortJobType | Unset
        if isinstance(_job_type, Unset):
            job_type = UNSET
        else:
            job_type = ShortJobType(_job_type)

        job_failed_code = d.pop("job_failed_code", UNSET)

        job_failed_reason = d.pop("job_failed_reason", UNSET)

        create_time = d.pop("create_time", UNSET)

        lastupdate_time = d.pop("lastupdate_time", UNSET)

        _assess_result = d.pop("assess_result", UNSET)
        assess_result: AssessResult | Unset
        if isinstance(_assess_result, Unset):
            assess_result = UNSET
        else:
            assess_result = AssessResult.from_dict(_assess_result)

        show_short_job_response = cls(
            job_id=job_id,
            state=state,
            job_type=job_type,
            job_failed_code=job_failed_code,
            job_failed_reason=job_failed_reason,
            create_time=create_time,
            lastupdate_time=lastupdate_time,
            assess_result=assess_result,
        )

        show_short_job_response.additional_properties = d
        return show_short_job_response

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
