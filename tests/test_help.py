"""Every command's --help: wrapped to the terminal, and no raw Jinja in the questions `new` lists."""

from __future__ import annotations

import subprocess
import sys

import pytest

from naavre_scaffold import __version__
from naavre_scaffold.cli import main, subcommands
from naavre_scaffold.templates import TEMPLATES

COMMANDS = [module.__name__.rsplit(".", 1)[1] for module in subcommands()]


def _help(capsys, monkeypatch, *args: str, columns: int = 80) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main([*args, "--help"]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_fits_the_terminal(command: str | None, capsys, monkeypatch) -> None:
    text = _help(capsys, monkeypatch, *([command] if command else []))
    assert text.strip()
    too_long = [line for line in text.splitlines() if len(line) > 80]
    assert too_long == []


def test_new_lists_every_templates_questions_with_computed_defaults(capsys, monkeypatch) -> None:
    text = _help(capsys, monkeypatch, "new", columns=100)
    for template in TEMPLATES:
        assert f"questions of the {template} template" in text
    assert "{{" not in text and "{%" not in text
    flat = " ".join(text.split())
    assert "(default: ghcr.io/naavre)" in flat  # a service's registry, computed for the default org
    assert "(default: ghcr.io/naavre/<name>)" in flat  # a flavors repo's
    assert "Registry path that receives every flavor's images" in flat  # a help that is a template
    assert "(default: empty)" in flat and "(default: yes)" in flat


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["updat"], "naavre-scaffold: error: argument COMMAND: invalid choice: 'updat'"),
        (["check"], "naavre-scaffold check: error: the following arguments are required: PATH"),
        (["update", ".", "--jobs", "x"], "naavre-scaffold update: error: argument --jobs: invalid int value"),
    ],
)
def test_a_usage_error_is_one_line_that_says_where_help_is(args: list[str], message: str, capsys) -> None:
    assert main(args) == 2

    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith(message) and err.rstrip().endswith("--help)")


def test_version_answers_without_loading_copier() -> None:
    """Importing Copier is most of a start's time; --version needs none of it."""
    code = "import sys; from naavre_scaffold.cli import main; main(['--version']); "
    code += "print('copier' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.splitlines() == [f"naavre-scaffold {__version__}", "False"]
