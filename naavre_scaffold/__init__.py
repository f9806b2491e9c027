"""naavre-scaffold: create, update and check NaaVRE repositories from Copier templates."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("naavre-scaffold")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
