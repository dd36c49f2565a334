from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, Generator, TextIO, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AssessProperty")


@_attrs_define
class AssessProperty:
    """One measured property of the recordings.

    Attributes:
        expected (str | Unset): The expected range. Example: -26 ~ -16 dBFS.
        actual (str | Unset): The measured value, with its unit. Example: -20.4 dBFS.
        suggestion (str | Unset): Advice, in Chinese. Example: 音量正常。.
        suggestion_en (str | Unset): Advice, in English. Example: The loudness is fine..
        status (int | Unset): Whether the value is out of the expected range: 0 within it, 1 out of it. Example: 0.
    """

    expected: str | Unset = UNSET
    actual: str | Unset = UNSET
    suggestion: str | Unset = UNSET
    suggestion_en: str | Unset = UNSET
    status: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        expected = self.expected

        actual = self.actual

        suggestion = self.suggestion

        suggestion_en = self.suggestion_en

        status = self.status

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if expected is not UNSET:
            field_dict["expected"] = expected
        if actual is not UNSET:
            field_dict["actual"] = actual
        if suggestion is not UNSET:
            field_dict["suggestion"] = suggestion
        if suggestion_en is not UNSET:
            field_dict["suggestion_en"] = suggestion_en
        if status is not UNSET:
            field_dict["status"] = status

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        expected = d.pop("expected", UNSET)

        actual = d.pop("actual", UNSET)

        suggestion = d.pop("suggestion", UNSET)

        suggestion_en = d.pop("suggestion_en", UNSET)

        status = d.pop("status", UNSET)

        assess_property = cls(
            expected=expected,
            actual=actual,
            suggestion=suggestion,
            suggestion_en=suggestion_en,
            status=status,
        )

        assess_property.additional_properties = d
        return assess_property

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
