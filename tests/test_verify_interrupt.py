"""``verify`` stopped by Ctrl-C or SIGTERM while a JupyterLab tool runs: exit 130, nothing left behind.

No real build: a fake ``jlpm`` starts a grandchild that ignores SIGTERM and keeps
writing into the temporary copy (as Yarn's workers fill node_modules), then waits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

from naavre_scaffold.git import init_and_commit
from naavre_scaffold.signals import held_signals
from naavre_scaffold.source import TemplateSource
from naavre_scaffold.verification.run import CHECKS
from tests.helpers import render

ROOT = Path(__file__).resolve().parent.parent
ONLY_JUPYTERLAB = [arg for kind in CHECKS if kind != "jupyterlab" for arg in ("--skip", kind)]
# Writes its pid and its grandchild's to $FAKE_JLPM_PIDS once both run, then waits.
FAKE_JLPM = """#!/bin/bash
mkdir -p node_modules/solid
(trap '' TERM; i=0; while :; do i=$((i + 1)); echo "$i" > "node_modules/solid/file-$((i % 500))"; done) &
echo "$$ $!" > "$FAKE_JLPM_PIDS.part" && mv "$FAKE_JLPM_PIDS.part" "$FAKE_JLPM_PIDS"
sleep 60
"""


@pytest.fixture(scope="module")
def extension(template_git: TemplateSource, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = render(template_git, tmp_path_factory.mktemp("extension") / "ext", "jupyterlab", name="plain")
    init_and_commit(dest, "Render")  # as `naavre-scaffold new` leaves it
    return dest


@pytest.fixture(scope="module")
def python_with_fake_jlpm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python that imports this project and finds the fake ``jlpm`` in its scripts folder.

    ``verify`` looks for its tools next to the running Python first, so a fake on
    PATH alone would lose to this virtual environment's real ``jlpm``.
    """
    venv = tmp_path_factory.mktemp("fake-tools") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "naavre.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n{ROOT}\n")
    jlpm = venv / "bin/jlpm"
    jlpm.write_text(FAKE_JLPM)
    jlpm.chmod(0o755)
    return venv / "bin/python"


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process: ended ones waiting for their parent to reap them are not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"the fake jlpm did not start within {timeout} s"
        time.sleep(0.1)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_jupyterlab_check_exits_130_and_leaves_nothing(
    extension: Path, python_with_fake_jlpm: Path, tmp_path: Path, stop: signal.Signals
) -> None:
    scratch, pids = tmp_path / "tmp", tmp_path / "pids"
    scratch.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(scratch),
        "NAAVRE_SCAFFOLD_CACHE": str(tmp_path / "cache"),  # no wait for other tests' Yarn cache lock
        "FAKE_JLPM_PIDS": str(pids),
    }
    run = subprocess.Popen(
        [python_with_fake_jlpm, "-m", "naavre_scaffold", "verify", str(extension), *ONLY_JUPYTERLAB],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(pids, run)
        jlpm, grandchild = map(int, pids.read_text().split())
        assert any(p.name.startswith("naavre-verify-jupyterlab-") for p in scratch.iterdir())
        time.sleep(0.5)  # the grandchild fills node_modules/solid meanwhile
        run.send_signal(stop)
        out, err = run.communicate(timeout=30)
    finally:
        run.kill()
        if pids.exists():  # whatever happened, the fake's group must not run on
            with contextlib.suppress(ProcessLookupError):
                os.killpg(int(pids.read_text().split()[0]), signal.SIGKILL)

    assert run.returncode == 130, out + err
    assert "Traceback" not in err
    assert err.splitlines() == ["naavre-scaffold verify: error: interrupted; nothing more was started"]
    assert list(scratch.iterdir()) == [], "the temporary copy was left behind"
    assert not _running(jlpm) and not _running(grandchild), "a tool's process outlived verify"


def test_a_second_ctrl_c_during_cleanup_takes_effect_once_it_is_done() -> None:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, as in the CLI
    cleaned = []
    try:
        with pytest.raises(KeyboardInterrupt), held_signals():
            signal.raise_signal(signal.SIGINT)
            cleaned.append("all")  # not cut short
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
    finally:
        signal.signal(signal.SIGINT, previous)
    assert cleaned == ["all"]
