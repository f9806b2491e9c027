"""``new`` as a person meets it: one-line errors, nothing written, the version said, clean interrupts."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from naavre_scaffold import __version__
from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from naavre_scaffold.new import create as new_module
from naavre_scaffold.new.create import create
from naavre_scaffold.source import bundled_root, read_questions
from naavre_scaffold.templates import FLAVORS_REPO_MARKER, TEMPLATES
from tests.helpers import commit_all

COMMAND = str(Path(sys.executable).parent / "naavre-scaffold")
ERROR = "naavre-scaffold new: error: "
INTERRUPTED = f"{ERROR}interrupted; nothing was kept, so the same command can be rerun"


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
    assert f"from {template_repo} at {described} (the new repository's first commit is " in out
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
    assert err.startswith("naavre-scaffold new: error:")  # the subcommand's, not the top level's
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
    assert error.endswith(INTERRUPTED if failure is KeyboardInterrupt else "No space left on device")
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


# Every yes/no question, with a template that asks it (test_yes_no_questions_are_all_here keeps it whole).
YES_NO_QUESTIONS = [
    ("jupyterlab", "has_settings"),
    ("flavor", "build_jupyter"),
    ("flavor", "build_cell_base"),
    ("flavor", "free_disk_space"),
]


def _destination(template: str, tmp_path: Path) -> Path:
    """Where ``new template x`` may write: a flavor only inside a flavors repository (a bare one here)."""
    if TEMPLATES[template].host_marker is None:
        return tmp_path / "x"
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / FLAVORS_REPO_MARKER).write_text("")
    return tmp_path / "repo/flavors/x"


def test_yes_no_questions_are_all_here() -> None:
    questions = read_questions(bundled_root())
    yes_no = {key for key, question in questions.items() if question.get("type") == "bool"}
    assert {key for _, key in YES_NO_QUESTIONS} == yes_no


@pytest.mark.parametrize("value", ["maybe", "", "2", "t", "yes please"])
@pytest.mark.parametrize(("template", "question"), YES_NO_QUESTIONS)
def test_a_yes_no_answer_must_say_yes_or_no(tmp_path: Path, capsys, template, question, value) -> None:
    dest = _destination(template, tmp_path)
    code = main(["new", template, "x", "--defaults", "-d", f"{question}={value}", "--dest", str(dest)])
    assert code == 2
    assert _error_line(capsys) == f"{ERROR}{question}: must be true or false (got {value!r})"
    assert not dest.parent.exists() if template == "flavor" else not dest.exists()


def test_a_yes_no_answer_from_a_data_file_must_say_yes_or_no(tmp_path: Path, capsys) -> None:
    answers = tmp_path / "answers.yml"
    answers.write_text("has_settings: maybe\n")
    dest = tmp_path / "x"
    code = main(["new", "jupyterlab", "x", "--defaults", "--data-file", str(answers), "--dest", str(dest)])
    assert code == 2
    assert _error_line(capsys) == f"{ERROR}has_settings: must be true or false (got 'maybe')"
    assert not dest.exists()


@pytest.mark.parametrize(("spelled", "meant"), [("Yes", True), ("OFF", False), ("0", False), (True, True)])
def test_clear_yes_no_spellings_are_taken(tmp_path: Path, spelled, meant) -> None:
    repo = create("jupyterlab", "x", dest=tmp_path / "x", data={"has_settings": spelled}, pretend=True)
    assert repo.answers["has_settings"] is meant


def test_another_templates_question_is_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "x", "--defaults", "-d", "kind=frontend"]) == 2
    assert _error_line(capsys) == (
        f"{ERROR}kind: is a question of the jupyterlab template, not of the service template"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_question_of_two_other_templates_names_both(tmp_path: Path, capsys) -> None:
    dest = _destination("flavor", tmp_path)
    assert main(["new", "flavor", "x", "--defaults", "-d", "registry=ghcr.io/x", "--dest", str(dest)]) == 2
    assert _error_line(capsys) == (
        "naavre-scaffold new: error: registry: is a question of the service and flavors-repo templates, "
        "not of the flavor template"
    )


def test_an_unknown_question_lists_only_this_templates_questions(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["new", "service", "x", "--defaults", "-d", "prot=1"]) == 2
    assert _error_line(capsys) == (
        "naavre-scaffold new: error: prot: unknown question "
        "(the service template asks: description, author, github_org, registry, port, python_version)"
    )


def test_a_bad_yaml_answer_is_a_usage_error(tmp_path: Path, capsys) -> None:
    dest = _destination("flavor", tmp_path)
    assert main(["new", "flavor", "x", "--defaults", "-d", "aliases=[eco", "--dest", str(dest)]) == 2
    assert _error_line(capsys).startswith("naavre-scaffold new: error: aliases: must be valid YAML")


def _unmakeable(tmp_path: Path) -> list[tuple[str, str]]:
    """Destinations that cannot be made, and what the error says about each."""
    file = tmp_path / "file"
    file.write_text("mine")
    return [
        ("/proc/qc", "/proc"),  # cannot be made, not even by root
        (f"{file}/qc", f"{file} is not a folder"),
        (str(file), f"{file} already exists and is not a folder"),
    ]


def test_a_destination_that_cannot_be_made_is_a_usage_error(tmp_path: Path, capsys) -> None:
    for dest, message in _unmakeable(tmp_path):
        assert main(["new", "service", "qc", "--defaults", "--dest", dest]) == 2, dest
        error = _error_line(capsys)
        assert error.startswith("naavre-scaffold new: error: --dest: ") and message in error, error
    assert [p.name for p in tmp_path.iterdir()] == ["file"]
    assert (tmp_path / "file").read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_a_destination_in_a_read_only_folder_is_a_usage_error(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    assert main(["new", "service", "qc", "--defaults", "--dest", str(folder / "qc")]) == 2
    assert _error_line(capsys) == (
        f"{ERROR}--dest: {folder} is not writable, so {folder / 'qc'} cannot be made in it"
    )


def _interrupt(*args, **kwargs) -> None:
    raise KeyboardInterrupt


def _interrupt_after(function):
    def interrupted(*args, **kwargs):
        function(*args, **kwargs)
        raise KeyboardInterrupt

    return interrupted


class _InterruptedOutput:
    """Standard output on which Ctrl-C comes while ``text`` is written."""

    def __init__(self, text: str) -> None:
        self.text = text

    def write(self, text: str) -> int:
        if self.text in text:
            raise KeyboardInterrupt
        return len(text)

    def flush(self) -> None:
        pass


# Steps of `new` after the render, each interrupted by Ctrl-C, as monkeypatch sets them up.
LATE_STEPS = {
    "after the render": lambda patch: patch.setattr(
        new_module, "_render", _interrupt_after(new_module._render)
    ),
    "after the commit": lambda patch: patch.setattr(
        new_module, "init_and_commit", _interrupt_after(new_module.init_and_commit)
    ),
    "while working out the next steps": lambda patch: patch.setitem(
        TEMPLATES, "service", replace(TEMPLATES["service"], next_steps=_interrupt)
    ),
    "while printing the success line": lambda patch: patch.setattr(
        sys, "stdout", _InterruptedOutput("Created ")
    ),
}


@pytest.mark.parametrize("step", LATE_STEPS)
def test_ctrl_c_before_success_is_reported_keeps_nothing(tmp_path: Path, monkeypatch, capsys, step) -> None:
    monkeypatch.chdir(tmp_path)
    LATE_STEPS[step](monkeypatch)
    code = main(["new", "service", "qc", "--defaults"])
    monkeypatch.undo()
    assert code == 130
    assert list(tmp_path.iterdir()) == []
    assert _error_line(capsys) == INTERRUPTED


def test_an_interrupt_removes_only_what_new_made(tmp_path: Path, monkeypatch, capsys) -> None:
    """The folders `new` made above the destination go too; a destination that was there stays, empty."""
    monkeypatch.setattr(new_module, "init_and_commit", _interrupt)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["new", "service", "qc", "--defaults", "--dest", str(empty)]) == 130
    assert main(["new", "service", "qc", "--defaults", "--dest", str(tmp_path / "made/deeper/qc")]) == 130
    assert [p.name for p in tmp_path.iterdir()] == ["empty"]
    assert list(empty.iterdir()) == []


def test_a_second_ctrl_c_while_undoing_still_removes_everything(tmp_path: Path, monkeypatch, capsys) -> None:
    dest = tmp_path / "qc"
    rmtree = shutil.rmtree

    def impatient(path, *args, **kwargs) -> None:
        if Path(path) == dest:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C again, as the cleanup starts
        rmtree(path, *args, **kwargs)

    monkeypatch.setattr(new_module, "init_and_commit", _interrupt)
    monkeypatch.setattr(shutil, "rmtree", impatient)
    assert main(["new", "service", "qc", "--defaults", "--dest", str(dest)]) == 130
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
    assert _error_line(capsys) == INTERRUPTED


def test_sigterm_before_success_is_reported_keeps_nothing(tmp_path: Path) -> None:
    """SIGTERM, sent as the repository is committed: the real signal, in a process of its own."""
    script = textwrap.dedent(
        """
        import os, signal, sys
        from naavre_scaffold.new import create
        from naavre_scaffold.cli import main

        def terminated(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGTERM)

        create.init_and_commit = terminated
        sys.exit(main(["new", "service", "qc", "--defaults"]))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 130, done.stderr
    assert list(tmp_path.iterdir()) == []
    assert done.stderr.splitlines() == [INTERRUPTED]


def test_created_line_names_the_folder_and_labels_the_commit(tmp_path: Path, monkeypatch, capsys) -> None:
    """`--dest .` says which folder; the new repository's commit is told apart from the template's version."""
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["new", "service", "qc", "--defaults", "-q", "--dest", "."]) == 0
    commit = git(here, "rev-parse", "HEAD")[:8]
    assert capsys.readouterr().out == (
        f"Created {here} from https://github.com/NaaVRE/naavre-scaffold.git at v{__version__} "
        f"(the new repository's first commit is {commit}).\n"
    )
