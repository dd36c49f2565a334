from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO, Generator, TextIO, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.assess_property import AssessProperty


T = TypeVar("T", bound="AssessResult")


@_attrs_define
class AssessResult:
    """The assessment of a VOICE_ASSESS job's recordings.

    Attributes:
        speed (AssessProperty | Unset): One measured property of the recordings.
        sound (AssessProperty | Unset): One measured property of the recordings.
        snr (AssessProperty | Unset): One measured property of the recordings.
        reverb (AssessProperty | Unset): One measured property of the recordings.
        dnsmos_ovrl (AssessProperty | Unset): One measured property of the recordings.
        dnsmos_bak (AssessProperty | Unset): One measured property of the recordings.
        suggestion (str | Unset): Overall advice, in the job's language.
    """

    speed: AssessProperty | Unset = UNSET
    sound: AssessProperty | Unset = UNSET
    snr: AssessProperty | Unset = UNSET
    reverb: AssessProperty | Unset = UNSET
    dnsmos_ovrl: AssessProperty | Unset = UNSET
    dnsmos_bak: AssessProperty | Unset = UNSET
    suggestion: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.assess_property import AssessProperty  # noqa: PLC0415

        speed: dict[str, Any] | Unset = UNSET
        if not isinstance(self.speed, Unset):
            speed = self.speed.to_dict()

        sound: dict[str, Any] | Unset = UNSET
        if not isinstance(self.sound, Unset):
            sound = self.sound.to_dict()

        snr: dict[str, Any] | Unset = UNSET
        if not isinstance(self.snr, Unset):
            snr = self.snr.to_dict()

        reverb: dict[str, Any] | Unset = UNSET
        if not isinstance(self.reverb, Unset):
            reverb = self.reverb.to_dict()

        dnsmos_ovrl: dict[str, Any] | Unset = UNSET
        if not isinstance(self.dnsmos_ovrl, Unset):
            dnsmos_ovrl = self.dnsmos_ovrl.to_dict()

        dnsmos_bak: dict[str, Any] | Unset = UNSET
        if not isinstance(self.dnsmos_bak, Unset):
            dnsmos_bak = self.dnsmos_bak.to_dict()

        suggestion = self.suggestion

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if speed is not UNSET:
            field_dict["speed"] = speed
        if sound is not UNSET:
            field_dict["sound"] = sound
        if snr is not UNSET:
            field_dict["snr"] = snr
        if reverb is not UNSET:
            field_dict["reverb"] = reverb
        if dnsmos_ovrl is not UNSET:
            field_dict["dnsmos_ovrl"] = dnsmos_ovrl
        if dnsmos_bak is not UNSET:
            field_dict["dnsmos_bak"] = dnsmos_bak
        if suggestion is not UNSET:
            field_dict["suggestion"] = suggestion

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.assess_property import AssessProperty  # noqa: PLC0415

        d = dict(src_dict)
        _speed = d.pop("speed", UNSET)
        speed: AssessProperty | Unset
        if isinstance(_speed, Unset):
            speed = UNSET
        else:
            speed = AssessProperty.from_dict(_speed)

        _sound = d.pop("sound", UNSET)
        sound: AssessProperty | Unset
        if isinstance(_sound, Unset):
            sound = UNSET
        else:
            sound = AssessProperty.from_dict(_sound)

        _snr = d.pop("snr", UNSET)
        snr: AssessProperty | Unset
        if isinstance(_snr, Unset):
            snr = UNSET
        else:
            snr = AssessProperty.from_dict(_snr)

        _reverb = d.pop("reverb", UNSET)
        reverb: AssessProperty | Unset
        if isinstance(_reverb, Unset):
            reverb = UNSET
        else:
            reverb = AssessProperty.from_dict(_reverb)

        _dnsmos_ovrl = d.pop("dnsmos_ovrl", UNSET)
        dnsmos_ovrl: AssessProperty | Unset
        if isinstance(_dnsmos_ovrl, Unset):
            dnsmos_ovrl = UNSET
        else:
            dnsmos_ovrl = AssessProperty.from_dict(_dnsmos_ovrl)

        _dnsmos_bak = d.pop("dnsmos_bak", UNSET)
        dnsmos_bak: AssessProperty | Unset
        if isinstance(_dnsmos_bak, Unset):
            dnsmos_bak = UNSET
        else:
            dnsmos_bak = AssessProperty.from_dict(_dnsmos_bak)

        suggestion = d.pop("suggestion", UNSET)

        assess_result = cls(
            speed=speed,
            sound=sound,
            snr=snr,
            reverb=reverb,
            dnsmos_ovrl=dnsmos_ovrl,
            dnsmos_bak=dnsmos_bak,
            suggestion=suggestion,
        )

        assess_result.additional_properties = d
        return assess_result

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
