"""The optional JSON configuration file named by CONFIG_FILE_URL.

The file is read on first use, never at import time, and then kept for the
life of the process (the Helm chart restarts the pods when it changes).
Its content may hold secrets, so it is never logged.
"""

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from fastapi import Depends

from app.settings import Settings, get_settings


class ConfigFileError(RuntimeError):
    """The configuration file is missing, unreadable or not a JSON object."""


def config_file_path(location: str) -> Path:
    """Turn CONFIG_FILE_URL (a plain path or a file:// URL) into a path."""
    parts = urlsplit(location)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ConfigFileError(f"CONFIG_FILE_URL={location}: file:// URLs must not name a remote host")
        return Path(url2pathname(parts.path))  # also decodes %-escapes
    if parts.scheme:
        raise ConfigFileError(f"CONFIG_FILE_URL={location}: only a path or a file:// URL is supported")
    return Path(location)


@lru_cache
def load_config(location: str) -> dict[str, Any]:
    """Read and parse the configuration file; an empty location means no configuration."""
    if not location:
        return {}
    path = config_file_path(location)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigFileError(f"CONFIG_FILE_URL={location}: cannot read {path}: {error.strerror}") from error
    try:
        content = json.loads(raw)
    except ValueError as error:
        # Decoding errors give a position, never the content, so they are safe to show.
        raise ConfigFileError(f"CONFIG_FILE_URL={location}: invalid JSON: {error}") from None
    if not isinstance(content, dict):
        raise ConfigFileError(f"CONFIG_FILE_URL={location}: the top level must be a JSON object")
    return content


def get_config(settings: Annotated[Settings, Depends(get_settings)]) -> dict[str, Any]:
    """FastAPI dependency: the parsed configuration file (treat it as read-only)."""
    return load_config(settings.config_file_url)
