"""The JSON configuration file named by CONFIG_FILE_URL."""

import json
import logging
import re
from pathlib import Path

import pytest

from app.config import ConfigFileError, get_config, load_config
from app.settings import get_settings

CONFIGURATION = {"virtual_labs": [{"slug": "lab-a", "token": "s3cr3t-value"}]}


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "configuration.json"
    path.write_text(json.dumps(CONFIGURATION), encoding="utf-8")
    return path


def test_no_file_means_an_empty_configuration() -> None:
    assert load_config("") == {}


def test_plain_path(config_file: Path) -> None:
    assert load_config(str(config_file)) == CONFIGURATION


def test_file_url(config_file: Path) -> None:
    assert load_config(config_file.as_uri()) == CONFIGURATION


def test_file_url_with_escaped_characters(tmp_path: Path) -> None:
    path = tmp_path / "lab configuration %41.json"
    path.write_text(json.dumps(CONFIGURATION), encoding="utf-8")

    assert load_config(path.as_uri()) == CONFIGURATION


def test_dependency_reads_the_file_named_by_the_environment(environment, config_file: Path) -> None:
    environment.setenv("CONFIG_FILE_URL", str(config_file))

    assert get_config(get_settings()) == CONFIGURATION


def test_file_is_read_once(config_file: Path) -> None:
    first = load_config(str(config_file))
    config_file.write_text("{}", encoding="utf-8")

    assert load_config(str(config_file)) == first


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.json"

    with pytest.raises(ConfigFileError, match=re.escape(f"CONFIG_FILE_URL={missing}: cannot read")):
        load_config(str(missing))


def test_invalid_json_error_does_not_show_the_content(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"token": "s3cr3t-value",', encoding="utf-8")

    with pytest.raises(ConfigFileError, match="invalid JSON") as raised:
        load_config(str(broken))
    assert "s3cr3t-value" not in str(raised.value)


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]", encoding="utf-8")

    with pytest.raises(ConfigFileError, match="top level must be a JSON object"):
        load_config(str(listing))


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("https://example.org/configuration.json", "only a path or a file:// URL"),
        ("file://config-host/configuration.json", "must not name a remote host"),
    ],
)
def test_unsupported_locations(location: str, reason: str) -> None:
    with pytest.raises(ConfigFileError, match=reason):
        load_config(location)


def test_bad_file_stops_the_service_at_startup(environment, make_client, tmp_path: Path) -> None:
    environment.setenv("CONFIG_FILE_URL", str(tmp_path / "absent.json"))

    with pytest.raises(ConfigFileError, match="cannot read"):
        make_client()


def test_startup_does_not_log_the_configuration(
    environment, make_client, config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    environment.setenv("CONFIG_FILE_URL", config_file.as_uri())
    environment.setenv("DEBUG", "true")
    caplog.set_level(logging.DEBUG)

    assert make_client().get("/health").status_code == 200
    assert caplog.records, "startup should log something, or this test checks nothing"
    assert "s3cr3t-value" not in caplog.text
