# The Chinese advice uses full-width punctuation, as Chinese text should:
# ruff: noqa: RUF001
"""The words of the assessment: each metric's expected range, reading and advice (Chinese and
English), and the overall suggestion in the job's language.

The values come in already measured; this module only rounds them (before the range checks, so the
text and the status always agree) and words them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mock_server.assessment.result import METRIC_NAMES, Assessment, Metric

if TYPE_CHECKING:
    from mock_server.assessment.scoring import JobValues

__all__ = [
    "CLIP_MAX_FRACTION",
    "DNSMOS_MIN",
    "LEVEL_RANGE",
    "MIN_TOTAL_SECONDS",
    "REVERB_MAX",
    "SNR_MIN",
    "SPEED_RANGE",
    "assessment",
    "dnsmos_metric",
    "overall",
    "reverb_metric",
    "snr_metric",
    "sound_metric",
    "speed_metric",
]

LEVEL_RANGE: Final = (-26.0, -16.0)
CLIP_MAX_FRACTION: Final = 0.001
SNR_MIN: Final = 25.0
SPEED_RANGE: Final = (2.5, 5.5)
REVERB_MAX: Final = 0.5
DNSMOS_MIN: Final = 3.0
MIN_TOTAL_SECONDS: Final = 3.0
SYLLABLES_PER_WORD_EN: Final = 1.5


def speed_metric(rate: float, english: bool) -> Metric:
    rate = round(rate, 1)
    low, high = SPEED_RANGE
    if english:
        unit = "words/min"
        per_min = rate * 60.0 / SYLLABLES_PER_WORD_EN
        lo_min, hi_min = low * 60.0 / SYLLABLES_PER_WORD_EN, high * 60.0 / SYLLABLES_PER_WORD_EN
    else:
        unit = "characters/min"
        per_min, lo_min, hi_min = rate * 60.0, low * 60.0, high * 60.0
    expected = f"{low:.1f} ~ {high:.1f} syllables/s ({lo_min:.0f} ~ {hi_min:.0f} {unit})"
    actual = f"{rate:.1f} syllables/s ({per_min:.0f} {unit})"
    if rate < low:
        return Metric(
            expected,
            actual,
            "语速偏慢，请以自然、连贯的语速朗读，减少拖音和不必要的停顿。",
            "Speaking rate is too slow: read at a natural, fluent pace without drawling or "
            "needless pauses.",
            1,
        )
    if rate > high:
        return Metric(
            expected,
            actual,
            "语速偏快，请放慢语速，吐字清晰。",
            "Speaking rate is too fast: slow down and articulate clearly.",
            1,
        )
    return Metric(
        expected,
        actual,
        "语速正常。",
        "Speaking rate is OK.",
        0,
    )


def left_out_advice(no_speech: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """The sentence naming the takes without speech that the job's values leave out (CN, EN);
    empty strings when there are none."""
    if not no_speech:
        return "", ""
    names = "; ".join(f"{name} ({_WHY_CN.get(why, why)})" for name, why in no_speech)
    names_en = "; ".join(f"{name} ({why})" for name, why in no_speech)
    return (
        f"{len(no_speech)} 个文件没有语音，未计入各项指标：{names}。",
        f"{len(no_speech)} file(s) without speech, left out of every metric: {names_en}.",
    )


_WHY_CN: Final = {"digital silence": "数字静音", "no speech, noise only": "只有噪声，没有语音"}


def sound_metric(
    loudness: float, clip_fraction: float, no_speech: tuple[tuple[str, str], ...] = ()
) -> Metric:
    """Loudness and clipping. The advice never says both "raise" and "lower" the gain: a take
    too quiet on average that also clips has peaks far above its speech, which no gain setting
    fixes, so it is worded as such."""
    level = round(loudness, 1)
    clip_pct = round(clip_fraction * 100.0, 2)
    low, high = LEVEL_RANGE
    expected = f"{low:.0f} ~ {high:.0f} LUFS, clipping <= {CLIP_MAX_FRACTION * 100:g}%"
    clipped = clip_pct > CLIP_MAX_FRACTION * 100.0
    actual = f"{level:.1f} LUFS" + (f", {clip_pct:.2f}% samples clipped" if clipped else "")
    cn: list[str] = []
    en: list[str] = []
    if level < low and clipped:
        cn.append(
            f"平均音量偏小，但有 {clip_pct:.2f}% 的采样削波（爆音）："
            "峰值远高于语音（敲击、喷麦？），请保持增益不变，靠近麦克风并使用防喷罩后重新录制。"
        )
        en.append(
            f"Too quiet on average, yet {clip_pct:.2f}% of the samples are clipped at full "
            "scale: the peaks are far above the speech (knocks, plosives?); keep the gain as it "
            "is, move closer to the microphone, use a pop filter and record again."
        )
    elif level < low:
        cn.append("音量偏小，请靠近麦克风或调高录音增益。")
        en.append("Too quiet: move closer to the microphone or raise the recording gain.")
    elif level > high:
        cn.append("音量偏大，请远离麦克风或调低录音增益。")
        en.append("Too loud: move away from the microphone or lower the recording gain.")
    if clipped and not level < low:
        cn.append(f"有 {clip_pct:.2f}% 的采样削波（爆音），请降低录音增益后重新录制。")
        en.append(
            f"{clip_pct:.2f}% of the samples are clipped at full scale: lower the input gain "
            "and record again."
        )
    left_cn, left_en = left_out_advice(no_speech)
    if not cn:
        ok_cn, ok_en = "音量适中，无削波。", "Loudness is OK, no clipping."
        return Metric(
            expected, actual, ok_cn + left_cn, " ".join(filter(None, (ok_en, left_en))), 0
        )
    return Metric(
        expected, actual, "".join(cn) + left_cn, " ".join(filter(None, (*en, left_en))), 1
    )


def snr_metric(snr: float) -> Metric:
    snr = round(snr, 1)
    expected = f">= {SNR_MIN:.0f} dB"
    actual = f"{snr:.1f} dB"
    if snr < SNR_MIN:
        return Metric(
            expected,
            actual,
            "信噪比偏低，背景噪声较大，请在安静的环境中录音，远离风扇、空调等噪声源。",
            "Signal-to-noise ratio is too low: record in a quiet room, away from fans, air "
            "conditioning and other noise sources.",
            1,
        )
    return Metric(expected, actual, "信噪比良好。", "Signal-to-noise ratio is OK.", 0)


def reverb_metric(rt60: float | None) -> Metric:
    expected = f"<= {REVERB_MAX:.2f} s"
    if rt60 is None:
        return Metric(
            expected,
            "n/a",
            "无法估计混响（缺少清晰的句间停顿或噪声过大）。",
            "Reverberation could not be estimated (no clear pauses after phrases, or too much "
            "noise).",
            0,
        )
    rt60 = round(rt60, 2)
    actual = f"{rt60:.2f} s"
    if rt60 > REVERB_MAX:
        return Metric(
            expected,
            actual,
            "混响偏大，请在较小、有软装（窗帘、地毯）的房间录音，并靠近麦克风。",
            "Too much reverberation: record in a smaller room with soft furnishings (curtains, "
            "carpet) and stay close to the microphone.",
            1,
        )
    return Metric(expected, actual, "混响较小。", "Reverberation is OK.", 0)


def dnsmos_metric(
    score: float, what_cn: str, what_en: str, advice_cn: str, advice_en: str
) -> Metric:
    score = round(score, 2)
    expected = f"{DNSMOS_MIN:.2f} ~ 5.00"
    actual = f"{score:.2f}"
    if score < DNSMOS_MIN:
        return Metric(
            expected,
            actual,
            f"{what_cn}偏低，{advice_cn}",
            f"{what_en} is low: {advice_en}",
            1,
        )
    return Metric(expected, actual, f"{what_cn}良好。", f"{what_en} is OK.", 0)


_LABELS: Final = {
    "speed": ("语速", "speaking rate (speed)"),
    "sound": ("音量", "loudness (sound)"),
    "snr": ("信噪比", "signal-to-noise ratio (snr)"),
    "reverb": ("混响", "reverberation (reverb)"),
    "dnsmos_ovrl": ("整体音质", "overall quality (dnsmos_ovrl)"),
    "dnsmos_bak": ("背景噪声评分", "background noise score (dnsmos_bak)"),
}


def overall(
    metrics: dict[str, Metric],
    files: int,
    seconds: float,
    english: bool,
    no_speech: tuple[tuple[str, str], ...] = (),
) -> str:
    """The overall suggestion: the metrics out of range, a too short total, and the takes
    without speech left out of the metrics (by name)."""
    bad = [name for name in METRIC_NAMES if metrics[name].status]
    too_short = round(seconds, 1) < MIN_TOTAL_SECONDS
    left_cn, left_en = left_out_advice(no_speech)
    if english:
        head = f"{files} file(s), {seconds:.1f} s in total: "
        parts: list[str] = [left_en] if left_en else []
        if bad:
            names = ", ".join(_LABELS[n][1] for n in bad)
            parts.append(f"{len(bad)} metric(s) out of range: {names}; see each metric's advice.")
        if too_short:
            parts.append(
                f"The recordings are too short: record at least {MIN_TOTAL_SECONDS:.0f} s."
            )
        if not bad and not too_short:
            ok = "all metrics are within the expected range; the recordings are fit for use."
            if left_en:
                ok = "the recordings with speech are within every expected range."
            return head + " ".join([*parts, ok]) if left_en else head + ok
        return head + " ".join(parts) + " Fix these and record again."
    head = f"共 {files} 个文件，总时长 {seconds:.1f} 秒："
    cn: list[str] = [left_cn] if left_cn else []
    if bad:
        names_cn = "、".join(_LABELS[n][0] for n in bad)
        cn.append(f"{len(bad)} 项指标不在期望范围内：{names_cn}，请参考各项建议。")
    if too_short:
        cn.append(f"录音时长过短，请至少录制 {MIN_TOTAL_SECONDS:.0f} 秒。")
    if not bad and not too_short:
        if left_cn:
            return head + left_cn + "有语音的录音各项指标均在期望范围内。"
        return head + "各项指标均在期望范围内，录音可以使用。"
    return head + "".join(cn) + "请改善后重新录制。"


def assessment(values: JobValues, english: bool) -> Assessment:
    """The worded AssessResult for a job's values; the overall suggestion in EN or CN."""
    metrics = {
        "speed": speed_metric(values.syllables_per_second, english=english),
        "sound": sound_metric(values.loudness_lufs, values.clip_fraction, values.no_speech),
        "snr": snr_metric(values.snr_db),
        "reverb": reverb_metric(values.rt60),
        "dnsmos_ovrl": dnsmos_metric(
            values.dnsmos_ovrl,
            "整体音质评分",
            "Overall quality score (DNSMOS OVRL)",
            "请降低噪声和混响，避免削波，并保持合适的音量。",
            "reduce noise and reverberation, avoid clipping and keep a moderate level.",
        ),
        "dnsmos_bak": dnsmos_metric(
            values.dnsmos_bak,
            "背景噪声评分",
            "Background noise score (DNSMOS BAK)",
            "背景噪声明显，请在安静的环境中录音。",
            "the background is noisy; record in a quiet place.",
        ),
    }
    return Assessment(
        **metrics,
        suggestion=overall(
            metrics, values.files, values.seconds, english=english, no_speech=values.no_speech
        ),
    )
