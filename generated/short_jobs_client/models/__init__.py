"""Contains all the data models used in inputs/outputs"""

from .assess_property import AssessProperty
from .assess_result import AssessResult
from .create_short_job_req import CreateShortJobReq
from .create_short_job_response import CreateShortJobResponse
from .error_response import ErrorResponse
from .job_state import JobState
from .language import Language
from .short_job_type import ShortJobType
from .show_short_job_response import ShowShortJobResponse

__all__ = (
    "AssessProperty",
    "AssessResult",
    "CreateShortJobReq",
    "CreateShortJobResponse",
    "ErrorResponse",
    "JobState",
    "Language",
    "ShortJobType",
    "ShowShortJobResponse",
)
