"""The mock's IAM: what the official SDK cores ask during sign-in (projects, domains, regions,
project creation), password tokens and temporary credentials (issues 15, 21).

    model.py        the account (from the settings), created projects, issued tokens and
                    credentials
                    (time is the mock's one clock, mock_server.core.clock)
    store.py        their tables in the mock's SQLite store (survive restarts; reset clears them)
    credentials.py  `IamCredentials`: what the API gateway asks (is this token good? this AK's SK?)
    handlers.py     the IAM operations of `mock_server/iam.yaml`
    errors.py       IAM's error table and Keystone's error shape

The IAM endpoint itself (auth, connexion over iam.yaml) is in the HTTP layer,
`mock_server/http/iam.py`, the only layer that speaks to the framework.

The gateway's `authenticate` (mock_server/http/gateway.py) asks `IamCredentials` (its
`token_problem` and `secret_for`), so the fixed `--ak`/`--sk`/`--token` and everything IAM
issued work alike, on the API and on IAM's own calls that need a caller.
"""

from mock_server.iam.credentials import ExpiredAccessKey, IamCredentials
from mock_server.iam.model import Account
from mock_server.iam.store import IamStore

__all__ = ["Account", "ExpiredAccessKey", "IamCredentials", "IamStore"]
