"""``new`` as a person meets it: one-line errors, nothing written, the version said, clean interrupts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from naavre_scaffold import new as new_module
from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from tests.helpers import commit_all

COMMAND = str(Path(sys.executable).parent / "naavre-scaffold")


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    return err


USAGE_ERRORS = [
    (
        ["--template-source", "/nonexistent/template"],
        "--template-source: /nonexistent/template does not exist",
    ),
    (["-d", "name=bb"], "name: given twice: 'aa' as an argument and 'bb'"),
    (["-d", "template=other"], "template: given twice: 'service' as an argument and 'other'"),
    (["--vcs-ref", "v1.0.0"], "--vcs-ref: needs --template-source"),
    (["--data-file", "/nonexistent.yml"], "--data-file: cannot read /nonexistent.yml"),
]


@pytest.mark.parametrize(("options", "message"), USAGE_ERRORS, ids=[o[0] for o, _ in USAGE_ERRORS])
def test_usage_errors_are_one_line_and_write_nothing(tmp_path: Path, monkeypatch, capsys, options, message):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "aa", "--defaults", *options]) == 2
    assert _error_line(capsys).startswith(f"naavre-scaffold new: error: {message}")
    assert list(tmp_path.iterdir()) == []


def test_rule_does_not_repeat_the_field(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "Bad_Name", "--defaults"]) == 2
    assert _error_line(capsys) == (
        "naavre-scaffold new: error: name: may contain only lowercase letters, digits and single hyphens"
    )


def test_folder_that_is_not_a_template(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("mine")
    dest = tmp_path / "out"
    assert (
        main(["new", "service", "x", "--defaults", "--template-source", str(folder), "--dest", str(dest)])
        == 2
    )
    assert "is not a naavre-scaffold template" in _error_line(capsys)
    assert not dest.exists()


def test_unknown_version_of_a_checkout(template_repo: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "out"
    code = main(
        [
            "new",
            "service",
            "x",
            "--defaults",
            "--template-source",
            str(template_repo),
            "--vcs-ref",
            "nope",
            "--dest",
            str(dest),
        ]
    )
    assert code == 2
    assert "--vcs-ref: the template has no version 'nope'" in _error_line(capsys)
    assert not dest.exists()


def test_unreachable_url_is_a_tool_error(tmp_path: Path, capsys) -> None:
    dest = tmp_path / "out"
    # Port 9 on the loopback: nothing listens there, so git fails at once.
    code = main(
        [
            "new",
            "service",
            "x",
            "--defaults",
            "--template-source",
            "https://127.0.0.1:9/t.git",
            "--dest",
            str(dest),
        ]
    )
    assert code == 3
    assert "cannot fetch the template https://127.0.0.1:9/t.git" in _error_line(capsys)
    assert not dest.exists()


def test_unknown_answer_is_refused_for_a_url_source_too(template_repo: Path, tmp_path: Path, capsys) -> None:
    """A URL source is fetched first, so its questions are checked like the bundled ones."""
    dest = tmp_path / "out"
    url = template_repo.as_uri()  # file:// is read as the checkout it names
    assert (
        main(
            [
                "new",
                "service",
                "x",
                "--defaults",
                "--template-source",
                url,
                "-d",
                "prot=1",
                "--dest",
                str(dest),
            ]
        )
        == 2
    )
    assert "prot: unknown question" in _error_line(capsys)
    assert not dest.exists()


def test_checkout_renders_its_unreleased_work_and_says_which(
    template_repo: Path, tmp_path: Path, capsys
) -> None:
    """A checkout with commits after its last tag renders HEAD, and the output names that version."""
    flake8 = template_repo / "templates/service/project/.flake8"
    flake8.write_text(flake8.read_text() + "# unreleased change\n")
    commit_all(template_repo, "Unreleased change")
    dest = tmp_path / "out"
    assert (
        main(
            [
                "new",
                "service",
                "x",
                "--defaults",
                "--template-source",
                str(template_repo),
                "--dest",
                str(dest),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    described = git(template_repo, "describe", "--tags")
    assert described.endswith(git(template_repo, "rev-parse", "--short", "HEAD").join(["-1-g", ""]))
    assert f"from {template_repo} at {described} (commit" in out
    assert "# unreleased change" in (dest / ".flake8").read_text()
    answers = yaml.safe_load((dest / ".copier-answers.yml").read_text())
    assert answers["_commit"] == described


def test_pretend_lists_files_and_writes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "qc", "--defaults", "--pretend"]) == 0
    out = capsys.readouterr().out
    assert "Would create NaaVRE-qc-service from https://github.com/NaaVRE/naavre-scaffold.git" in out
    assert "  helm/naavre-qc-service/Chart.yaml\n" in out
    assert "  .copier-answers.yml\n" in out
    assert list(tmp_path.iterdir()) == []


def test_data_file_answers_and_d_wins(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    answers = tmp_path.parent / f"{tmp_path.name}-answers.yml"
    answers.write_text("port: 9000\ngithub_org: FromFile\n")
    assert (
        main(["new", "service", "qc", "--defaults", "--data-file", str(answers), "-d", "github_org=FromFlag"])
        == 0
    )
    recorded = yaml.safe_load((tmp_path / "NaaVRE-qc-service/.copier-answers.yml").read_text())
    assert (recorded["port"], recorded["github_org"]) == (9000, "FromFlag")


def test_dest_expands_the_home_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "qc", "--defaults", "-q", "--dest=~/src/qc"]) == 0
    assert (tmp_path / "home/src/qc/.copier-answers.yml").is_file()
    assert not (tmp_path / "~").exists()


def test_options_are_never_abbreviated(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "qc", "--default"]) == 2
    err = capsys.readouterr().err
    assert "usage: naavre-scaffold new " in err  # the subcommand's usage, not the top level's
    assert "unrecognized arguments: --default" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_failure_after_the_render_removes_what_new_made(tmp_path: Path, monkeypatch, capsys, failure) -> None:
    """Disk full during `git add`, or Ctrl-C while committing: the destination goes, a rerun works."""

    def broken(*args, **kwargs):
        raise failure

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(new_module, "init_and_commit", broken)
    assert main(["new", "service", "qc", "--defaults"]) == (130 if failure is KeyboardInterrupt else 3)
    error = _error_line(capsys)
    assert error.endswith(
        "interrupted; nothing more was started" if failure is KeyboardInterrupt else "No space left on device"
    )
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "qc", "--defaults", "-q"]) == 0


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`new ... | head -1`: no traceback, the repository made."""
    done = subprocess.run(
        f"'{COMMAND}' new service piped --defaults | head -1",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.startswith("Created NaaVRE-piped-service from ")
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    assert (tmp_path / "NaaVRE-piped-service/.git").is_dir()


def test_says_when_defaults_are_used_without_a_terminal(tmp_path: Path) -> None:
    done = subprocess.run(
        [COMMAND, "new", "service", "logged"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "no terminal to ask in, so unanswered questions took their defaults" in done.stderr


def test_an_error_without_a_terminal_is_still_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [COMMAND, "new", "service", "aa", "-d", "name=bb"],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "naavre-scaffold new: error: name: given twice: 'aa' as an argument and 'bb' as -d name=..."
    ]
    assert list(tmp_path.iterdir()) == []
