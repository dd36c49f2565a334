from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, Generator, TextIO, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ErrorResponse")


@_attrs_define
class ErrorResponse:
    """The service's error body. `request_id` is present on errors raised by the API gateway
    (`APIGW.*` codes); the `X-Request-Id` header is always present.

        Attributes:
            error_code (str):  Example: MSS.00000003.
            error_msg (str):  Example: job 26f06524-4f75-4b3a-a853-b649a21aaf66 does not exist.
            request_id (str | Unset):  Example: 0b9f4f7b5d2c4e8e9a3c1d2e3f4a5b6c.
    """

    error_code: str
    error_msg: str
    request_id: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        error_code = self.error_code

        error_msg = self.error_msg

        request_id = self.request_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "error_code": error_code,
                "error_msg": error_msg,
            }
        )
        if request_id is not UNSET:
            field_dict["request_id"] = request_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        error_code = d.pop("error_code")

        error_msg = d.pop("error_msg")

        request_id = d.pop("request_id", UNSET)

        error_response = cls(
            error_code=error_code,
            error_msg=error_msg,
            request_id=request_id,
        )

        error_response.additional_properties = d
        return error_response

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
