"""naavre-scaffold: create, update and check NaaVRE repositories from Copier templates.

The Python API, one function per command::

    from naavre_scaffold import adopt, check, create, register, status, update, verify

They are imported on first use, so that ``naavre-scaffold --version`` and each
command load only what they need (Copier alone takes half a second).
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("naavre-scaffold")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

if TYPE_CHECKING:
    from naavre_scaffold.fleet.adopt import adopt
    from naavre_scaffold.fleet.check import check
    from naavre_scaffold.fleet.outcome import Options
    from naavre_scaffold.fleet.status import status
    from naavre_scaffold.fleet.update import update
    from naavre_scaffold.new.create import create
    from naavre_scaffold.registration import register
    from naavre_scaffold.verification.run import verify

# Each name of the API, and the module that defines it.
_API = {
    "adopt": "naavre_scaffold.fleet.adopt",
    "check": "naavre_scaffold.fleet.check",
    "create": "naavre_scaffold.new.create",
    "Options": "naavre_scaffold.fleet.outcome",
    "register": "naavre_scaffold.registration",
    "status": "naavre_scaffold.fleet.status",
    "update": "naavre_scaffold.fleet.update",
    "verify": "naavre_scaffold.verification.run",
}
__all__ = ["Options", "__version__", "adopt", "check", "create", "register", "status", "update", "verify"]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'naavre_scaffold' has no attribute {name!r}")
