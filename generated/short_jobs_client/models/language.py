from enum import StrEnum


class Language(StrEnum):
    """Forward compatible: a value this client does not know is kept, never refused.

    ``Language(raw)`` for a value the spec does not list answers a pseudo-member
    whose ``value`` (and ``str()``) is the service's raw string and whose ``is_known`` is False;
    it equals that string, is never identical to a listed member, and ``to_dict()`` sends it back
    unchanged. Listed values are the ordinary members (``is_known`` True).
    """

    CN = "CN"
    EN = "EN"

    def __str__(self) -> str:
        return str(self.value)

    @property
    def is_known(self) -> bool:
        """False for a value the service sent that this client's spec does not list."""
        return self._value_ in type(self)._value2member_map_

    @classmethod
    def _missing_(cls, value: object) -> "Language | None":
        # A service grows new values before its clients are regenerated: keep the raw string
        # (not cached, so a stream of odd values cannot grow memory). Not a string: refuse.
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member
