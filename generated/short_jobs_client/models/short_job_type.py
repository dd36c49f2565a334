from enum import StrEnum


class ShortJobType(StrEnum):
    VOICE_ASSESS = "VOICE_ASSESS"

    def __str__(self) -> str:
        return str(self.value)
