"""cell_test.py: the containerizer's templates, rendered with its variables and Jinja options.

The templates here are small stand-ins written for these tests (no download): they
show which variables reach them and that blocks are trimmed as in the containerizer.
"""

from __future__ import annotations

from pathlib import Path

from conftest import run_script

STAND_INS = {
    "dockerfile_template_conda.jinja2": (
        "FROM {{ base_image.build }} AS build\n{% if title.startswith('visualize-') %}\nFROM jupyter\n"
        "{% else %}\nFROM {{ base_image.runtime }} AS runtime\n{% endif %}\n"
    ),
    "conda_env_template.jinja2": (
        "name: venv\n{% for d in conda_deps %}\n- {{ d }}\n{% endfor %}{{ pip_deps | length }}"
    ),
}


def _templates(folder: Path) -> str:
    folder.mkdir()
    for name, text in STAND_INS.items():
        (folder / name).write_text(text)
    return folder.as_uri() + "/"


def test_writes_the_rendered_dockerfile_and_environment(tmp_path: Path) -> None:
    url = _templates(tmp_path / "templates")
    out = tmp_path / "cell"
    proc = run_script(
        "cell_test.py",
        *("--build-image", "reg/x-cell-build:ci", "--runtime-image", "reg/x-cell-runtime:ci"),
        *("--output", str(out), "--templates-url", url),
    )
    assert proc.returncode == 0, proc.stderr
    dockerfile = "FROM reg/x-cell-build:ci AS build\nFROM reg/x-cell-runtime:ci AS runtime\n"
    assert (out / "Dockerfile").read_text() == dockerfile
    assert (out / "environment.yaml").read_text() == "name: venv\n0"


def test_a_missing_template_is_a_one_line_error(tmp_path: Path) -> None:
    out = tmp_path / "cell"
    proc = run_script(
        "cell_test.py",
        *("--build-image", "b", "--runtime-image", "r", "--output", str(out)),
        *("--templates-url", (tmp_path / "nowhere").as_uri() + "/"),
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("cell_test.py: error: cannot download file://")
    assert len(proc.stderr.splitlines()) == 1
    assert not out.exists()
