"""The wording: each metric's range check and text, and the overall suggestion."""

from __future__ import annotations

from mock_server.assessment import advice
from mock_server.assessment.scoring import JobValues

GOOD = JobValues(
    files=2,
    seconds=12.0,
    syllables_per_second=4.0,
    loudness_lufs=-21.0,
    clip_fraction=0.0,
    snr_db=40.0,
    rt60=0.2,
    dnsmos_ovrl=3.6,
    dnsmos_bak=4.1,
)


def test_all_in_range_is_fit_for_use() -> None:
    en = advice.assessment(GOOD, english=True)
    cn = advice.assessment(GOOD, english=False)
    assert all(m.status == 0 for m in en.metrics().values())
    assert en.suggestion == (
        "2 file(s), 12.0 s in total: all metrics are within the expected range; "
        "the recordings are fit for use."
    )
    assert cn.suggestion == "共 2 个文件，总时长 12.0 秒：各项指标均在期望范围内，录音可以使用。"  # noqa: RUF001


def test_values_are_rounded_before_the_range_check() -> None:
    edge = advice.assessment(
        JobValues(**{**GOOD.__dict__, "dnsmos_ovrl": 2.996, "snr_db": 24.96}), english=True
    )
    assert edge.dnsmos_ovrl.actual == "3.00" and edge.dnsmos_ovrl.status == 0
    assert edge.snr.actual == "25.0 dB" and edge.snr.status == 0


def test_each_out_of_range_metric_is_named() -> None:
    bad = JobValues(**{**GOOD.__dict__, "loudness_lufs": -35.0, "rt60": 0.9, "dnsmos_bak": 2.0})
    result = advice.assessment(bad, english=True)
    assert {n for n, m in result.metrics().items() if m.status} == {"sound", "reverb", "dnsmos_bak"}
    assert result.sound.suggestion_en.startswith("Too quiet")
    assert "3 metric(s) out of range" in result.suggestion
    assert advice.reverb_metric(None).actual == "n/a"
