"""The wheel carries the templates, so an installed command works with no checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import yaml

from naavre_scaffold import __version__
from naavre_scaffold.source import PUBLIC_SOURCE

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_templates_and_creates_a_repo(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = (tmp_path / "dist").glob("naavre_scaffold-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "copier.yml", "templates"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")[:-1]  # template file names may hold spaces: `{% if service %}client.ts{% endif %}`
    assert tracked, "no template files tracked"
    missing = [path for path in tracked if f"naavre_scaffold/template/{path}" not in names]
    assert missing == []

    # Run the unpacked wheel from a folder outside the checkout: it must find its own templates.
    env = os.environ | {"PYTHONPATH": str(tmp_path / "site")}
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "from naavre_scaffold.source import bundled_root; print(bundled_root())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where) == tmp_path / "site/naavre_scaffold/template"
    subprocess.run(
        [sys.executable, "-m", "naavre_scaffold", "new", "service", "wheel", "--defaults"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    answers = yaml.safe_load((tmp_path / "NaaVRE-wheel-service/.copier-answers.yml").read_text())
    assert (answers["_src_path"], answers["_commit"]) == (PUBLIC_SOURCE, f"v{__version__}")
    assert (tmp_path / "NaaVRE-wheel-service/helm/naavre-wheel-service/values.schema.json").is_file()
