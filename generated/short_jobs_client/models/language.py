from enum import StrEnum


class Language(StrEnum):
    CN = "CN"
    EN = "EN"

    def __str__(self) -> str:
        return str(self.value)
