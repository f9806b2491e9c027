"""Fixtures: a flavors repository in a temporary folder, with flavor folders written by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

SCRIPTS = Path(__file__).resolve().parent.parent
# The scripts are run as `python scripts/<name>.py`, so they import each other from scripts/.
sys.path.insert(0, str(SCRIPTS))


def write_flavor(root: Path, name: str, **config: object) -> Path:
    """Write flavors/<name>/flavor_config.yaml; ``config`` overrides the keys (None drops one)."""
    values = {
        "flavor_name": name,
        "build_jupyter": True,
        "build_cell_base": True,
        "free_disk_space": False,
        "aliases": [],
        **config,
    }
    folder = root / "flavors" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "flavor_config.yaml").write_text(
        yaml.safe_dump({k: v for k, v in values.items() if v is not None}, sort_keys=False)
    )
    return folder


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A flavors repository: naavre-flavors.yml and the flavors vanilla (aliases python, r) and ecology."""
    root = tmp_path / "flavors-repo"
    root.mkdir()
    (root / "naavre-flavors.yml").write_text("registry: ghcr.io/naavre/flavors\nimage_prefix: naavre-fl-\n")
    write_flavor(root, "vanilla", aliases=["python", "r"])
    write_flavor(root, "ecology", aliases=["eco"], free_disk_space=True)
    return root


def run_script(name: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run scripts/<name> as CI does, with this interpreter."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
