"""The API's AssessResult and AssessProperty, as the assessment builds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["METRIC_NAMES", "Assessment", "Metric"]

METRIC_NAMES: Final = ("speed", "sound", "snr", "reverb", "dnsmos_ovrl", "dnsmos_bak")


@dataclass(frozen=True)
class Metric:
    """One AssessProperty: the range as text, the value with its unit, advice in CN and EN."""

    expected: str
    actual: str
    suggestion: str
    suggestion_en: str
    status: int  # 0 within the expected range, 1 out of range

    def to_json(self) -> dict[str, object]:
        return {
            "expected": self.expected,
            "actual": self.actual,
            "suggestion": self.suggestion,
            "suggestion_en": self.suggestion_en,
            "status": self.status,
        }


@dataclass(frozen=True)
class Assessment:
    """An AssessResult: six metrics and the overall suggestion in the job's language."""

    speed: Metric
    sound: Metric
    snr: Metric
    reverb: Metric
    dnsmos_ovrl: Metric
    dnsmos_bak: Metric
    suggestion: str

    def metrics(self) -> dict[str, Metric]:
        return {name: getattr(self, name) for name in METRIC_NAMES}

    def to_json(self) -> dict[str, object]:
        result: dict[str, object] = {n: m.to_json() for n, m in self.metrics().items()}
        result["suggestion"] = self.suggestion
        return result
