"""base_image_tags.py: the containerizer's exact shape, and one-line errors that write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_script, write_flavor

REGISTRY = "ghcr.io/naavre/flavors"


def _images(flavor: str, tag: str = "v1.0.0", registry: str = REGISTRY, prefix: str = "naavre-fl-") -> dict:
    return {
        "build": f"{registry}/{prefix}{flavor}-cell-build:{tag}",
        "runtime": f"{registry}/{prefix}{flavor}-cell-runtime:{tag}",
    }


def test_prints_every_flavor_and_alias_with_its_owners_images(repo: Path) -> None:
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "eco": _images("ecology"),
        "ecology": _images("ecology"),
        "python": _images("vanilla"),
        "r": _images("vanilla"),
        "vanilla": _images("vanilla"),
    }
    assert list(json.loads(proc.stdout)) == ["eco", "ecology", "python", "r", "vanilla"]


def test_flavors_without_cell_images_are_left_out(repo: Path) -> None:
    write_flavor(repo, "lab-only", build_cell_base=False, aliases=["lab"])
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", "v2.3.4")
    assert proc.returncode == 0, proc.stderr
    tags = json.loads(proc.stdout)
    assert "lab-only" not in tags and "lab" not in tags
    assert tags["vanilla"] == _images("vanilla", "v2.3.4")


def test_a_config_without_aliases_has_none(repo: Path) -> None:
    """Shaped like the NaaVRE/flavors configs that have no aliases key (and capitalized booleans)."""
    config = "flavor_name: wetlands\nbuild_jupyter: True\nbuild_cell_base: True\nfree_disk_space: False\n"
    (repo / "flavors/wetlands").mkdir()
    (repo / "flavors/wetlands/flavor_config.yaml").write_text(config)
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0")
    assert proc.returncode == 0, proc.stderr
    assert list(json.loads(proc.stdout)) == ["eco", "ecology", "python", "r", "vanilla", "wetlands"]
    assert json.loads(proc.stdout)["wetlands"] == _images("wetlands")


def test_registry_and_prefix_come_from_naavre_flavors_yml(repo: Path) -> None:
    (repo / "naavre-flavors.yml").write_text("registry: registry.example.org/lab\nimage_prefix: ''\n")
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0")
    assert json.loads(proc.stdout)["r"] == _images("vanilla", registry="registry.example.org/lab", prefix="")
    proc = run_script(
        "base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0", "--registry", "ghcr.io/other"
    )
    assert json.loads(proc.stdout)["eco"] == _images("ecology", registry="ghcr.io/other", prefix="")


def test_output_writes_the_file_and_prints_nothing(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "base_image_tags.json"
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0", "--output", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert json.loads(out.read_text())["python"] == _images("vanilla")


@pytest.mark.parametrize("tag", ["v1.0.0-rc.1", "v1.0.0-rc1", "v0.0.1-0"])
def test_a_pre_release_tag_is_a_release_tag(repo: Path, tag: str) -> None:
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", tag)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["vanilla"] == _images("vanilla", tag)


@pytest.mark.parametrize("tag", ["1.0.0", "v1.0", "v01.0.0", "v1.0.0-01", "v1.0.0+build.1", "latest", "v01.0.0x"])
def test_a_tag_that_is_not_vX_Y_Z_is_refused(repo: Path, tmp_path: Path, tag: str) -> None:
    out = tmp_path / "out.json"
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", tag, "--output", str(out))
    assert proc.returncode == 2
    assert "--tag: must be vX.Y.Z" in proc.stderr
    assert not out.exists()


def test_the_tag_is_required(repo: Path) -> None:
    proc = run_script("base_image_tags.py", "--root", str(repo))
    assert proc.returncode == 2
    assert "--tag" in proc.stderr


CONFIG = "flavor_config.yaml"
BROKEN = [
    ("vanilla", "flavor_name: [unclosed\n", f"flavors/vanilla/{CONFIG}: not valid YAML"),
    ("vanilla", "- a list\n", f"flavors/vanilla/{CONFIG}: must be a YAML mapping"),
    ("ecology", None, f"flavors/ecology/{CONFIG}: flavor_name 'other' must equal its folder name"),
    ("ecology", {"build_jupyter": "yes"}, f"flavors/ecology/{CONFIG}: build_jupyter must be true or false"),
    ("ecology", {"build_cell_base": None}, f"flavors/ecology/{CONFIG}: missing key(s) build_cell_base"),
    ("ecology", {"aliases": "eco"}, f"flavors/ecology/{CONFIG}: aliases must be a list"),
    ("ecology", {"aliases": ["Eco"]}, f"flavors/ecology/{CONFIG}: alias 'Eco' must be lowercase"),
    ("ecology", {"aliases": ["python"]}, "alias 'python' is already an alias (flavors/"),
    ("ecology", {"aliases": ["vanilla"]}, "alias 'vanilla' is already the name of a flavor"),
    ("ecology", {"aliases": ["eco", "eco"]}, f"flavors/ecology/{CONFIG}: aliases must not repeat"),
    ("ecology", {"color": "green"}, f"flavors/ecology/{CONFIG}: unknown key(s) color"),
]


@pytest.mark.parametrize(("flavor", "change", "message"), BROKEN, ids=[b[2][-40:] for b in BROKEN])
def test_a_broken_flavor_is_one_line_naming_the_file_and_nothing_is_written(
    repo: Path, tmp_path: Path, flavor: str, change: object, message: str
) -> None:
    config = repo / "flavors" / flavor / "flavor_config.yaml"
    if isinstance(change, str):
        config.write_text(change)
    elif change is None:
        write_flavor(repo, flavor, flavor_name="other")
    else:
        write_flavor(repo, flavor, **{"aliases": ["eco"], **change})
    out = tmp_path / "out.json"
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0", "--output", str(out))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert proc.stderr.startswith("base_image_tags.py: error: flavors/")
    assert message in proc.stderr
    assert not out.exists()


def test_a_folder_without_flavor_config_is_refused(repo: Path) -> None:
    (repo / "flavors" / "stray").mkdir()
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0")
    assert proc.returncode == 2
    assert "flavors/stray/flavor_config.yaml: missing" in proc.stderr


def test_a_broken_naavre_flavors_yml_is_named(repo: Path) -> None:
    (repo / "naavre-flavors.yml").write_text("registry: [\n")
    proc = run_script("base_image_tags.py", "--root", str(repo), "--tag", "v1.0.0")
    assert proc.returncode == 2
    assert proc.stderr.startswith("base_image_tags.py: error: naavre-flavors.yml: not valid YAML")
