"""Why an assessment fails: the codes a failed job carries, and the exception that carries them.

`AssessmentFailed.code` becomes the job's `job_failed_code`, `reason` its `job_failed_reason`; the
reason always names the file (`<entry name>: <problem>`), or the upload itself for zip-level
problems. The API reference says only that "anything the assessment cannot read fails the job";
the codes are the mock's own, also in docs/assessment.md:

============  ==================================================================================
MSS.20000001  No WAV file: the zip is empty or holds only directories, ignored or non-WAV files.
MSS.20000002  Unreadable WAV: not RIFF/WAVE, missing or malformed fmt/data chunk, truncated data,
              non-finite float samples.
MSS.20000003  Zip invalid or unsafe: not a zip, corrupt (bad CRC, bad headers), encrypted entry
              (named: ZipCrypto, strong, WinZip AES), unsupported compression (named: Deflate64,
              PPMd...), absolute or `..` name, symbolic link, too many entries, entries whose
              data overlap (the only "zip bomb?"), or a size limit (said as such; never
              a compression ratio: silence deflates 1000:1).
MSS.20000004  Unsupported audio format: another container (AIFF, FLAC, Ogg, MP3, MP4, RIFX...,
              named), a codec other than PCM/IEEE float (A-law, ADPCM, MP3...), an unsupported
              bit depth, a sample rate outside 8000-48000 Hz, over 32 channels.
MSS.20000005  No audio: an empty data chunk, or less than 0.1 s of audio.
MSS.20000006  A recording is longer than `ZipLimits.max_file_seconds` (default 2 hours).
MSS.20000007  No recording holds speech (each is digital silence or noise only). A take without
              speech among takes with speech does not fail the job: it is left out of the
              job's metrics and named in the suggestions (`scoring`).
============  ==================================================================================
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CODE_BAD_ZIP",
    "CODE_EMPTY_AUDIO",
    "CODE_NO_SPEECH",
    "CODE_NO_WAV",
    "CODE_TOO_LONG",
    "CODE_UNREADABLE_WAV",
    "CODE_UNSUPPORTED_FORMAT",
    "FAILURE_CODES",
    "AssessmentFailed",
]

CODE_NO_WAV: Final = "MSS.20000001"
CODE_UNREADABLE_WAV: Final = "MSS.20000002"
CODE_BAD_ZIP: Final = "MSS.20000003"
CODE_UNSUPPORTED_FORMAT: Final = "MSS.20000004"
CODE_EMPTY_AUDIO: Final = "MSS.20000005"
CODE_TOO_LONG: Final = "MSS.20000006"
CODE_NO_SPEECH: Final = "MSS.20000007"

FAILURE_CODES: Final[dict[str, str]] = {
    CODE_NO_WAV: "the zip holds no WAV file",
    CODE_UNREADABLE_WAV: "a WAV file cannot be read",
    CODE_BAD_ZIP: "the upload is not a valid zip, or is unsafe (zip bomb, unsafe entry name)",
    CODE_UNSUPPORTED_FORMAT: "a WAV file has an unsupported audio format",
    CODE_EMPTY_AUDIO: "a WAV file holds no audio",
    CODE_TOO_LONG: "a recording is longer than the limit",
    CODE_NO_SPEECH: "no recording holds speech (digital silence or noise only)",
}


class AssessmentFailed(Exception):
    """The job fails: `code` (one of FAILURE_CODES) becomes job_failed_code, `reason`
    job_failed_reason."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
