"""The README's first two commands, run as written, in order, in a fresh clone of this repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from naavre_scaffold import __version__
from naavre_scaffold.new.create import create
from naavre_scaffold.source import TemplateSource

ROOT = Path(__file__).resolve().parent.parent
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "T",
    "GIT_AUTHOR_EMAIL": "t@example.org",
    "GIT_COMMITTER_NAME": "T",
    "GIT_COMMITTER_EMAIL": "t@example.org",
}
# The test command runs the whole suite; here it runs a part that renders the template,
# which is what broke when the first command had left a repository inside the checkout.
RENDERING_TESTS = "tests/test_templates.py tests/test_names.py"


def readme_setup_commands() -> list[str]:
    """The command lines of the README's first shell block (comments left out)."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md has no ```bash block"
    return [line for line in block[1].splitlines() if line.strip() and not line.startswith("#")]


@pytest.mark.skipif(
    os.environ.get("NAAVRE_SCAFFOLD_README_RUN") == "1", reason="already inside the README run"
)
def test_readme_commands_in_order_on_a_fresh_clone(tmp_path: Path) -> None:
    create, run_tests = readme_setup_commands()
    assert "naavre-scaffold new service data-quality --defaults" in create
    assert run_tests.endswith("-m pytest")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = os.environ | {"NAAVRE_SCAFFOLD_README_RUN": "1", "NAAVRE_SCAFFOLD_CACHE": str(tmp_path / "cache")}
    env.pop("VIRTUAL_ENV", None)

    made = subprocess.run(create, shell=True, cwd=clone, env=env, capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr[-3000:]
    service = clone / "NaaVRE-data-quality-service"
    assert (service / ".git").is_dir() and (service / "helm/naavre-data-quality-service/Chart.yaml").is_file()

    tested = subprocess.run(
        f"{run_tests} {RENDERING_TESTS} -p no:cacheprovider",
        shell=True,
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-2000:]
    assert re.search(r"\d+ passed", tested.stdout)


def test_readme_plain_copier_commands(template_repo: Path, tmp_path: Path) -> None:
    """The 'Plain Copier' block works as written, with this checkout's template in place of GitHub's."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Plain Copier\n.*?```bash\n(.*?)```", readme, re.S)
    assert block
    lines = [line.split("  #")[0].strip() for line in block[1].splitlines() if line.strip()]
    assert len(lines) == 3 and lines[0].startswith("copier copy ") and lines[2] == "copier update"
    env = os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env |= GIT_IDENTITY
    copy = (
        lines[0].replace("https://github.com/NaaVRE/naavre-scaffold.git", str(template_repo)) + " --defaults"
    )
    # One shell, as a person types them: the `cd` of the second line holds for the third.
    script = "\n".join(["set -e", copy, lines[1], lines[2] + " --defaults"])
    done = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "NaaVRE-qc-service/helm/naavre-qc-service/Chart.yaml").is_file()


def test_readme_plain_copier_flavor_commands(template_repo: Path, tmp_path: Path) -> None:
    """The flavor block of 'Plain Copier', run in a flavors repository; a later release reaches the flavor."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Plain Copier\n.*?```bash\n.*?```.*?```bash\n(.*?)```", readme, re.S)
    assert block
    lines = [line.split("  #")[0].strip() for line in block[1].splitlines() if line.strip()]
    assert len(lines) == 3 and "-d template=flavor" in lines[0] and lines[2].endswith("copier update")
    repo = tmp_path / "flavors"
    create("flavors-repo", "flavors", dest=repo, source=TemplateSource(str(template_repo), f"v{__version__}"))
    env = (
        os.environ | {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"} | GIT_IDENTITY
    )
    copy = lines[0].replace("https://github.com/NaaVRE/naavre-scaffold.git", str(template_repo))
    tests_sh = template_repo / "templates/flavor/project/tests/tests.sh.jinja"
    release = [
        f"printf '# A line added by template v99.0.0.\\n' >> {tests_sh}",
        f"git -C {template_repo} commit -qam 'Template change' && git -C {template_repo} tag v99.0.0",
    ]
    script = "\n".join(["set -e", copy + " --defaults", lines[1], *release, lines[2] + " --defaults"])
    done = subprocess.run(
        ["bash", "-c", script], cwd=repo, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "# A line added by template v99.0.0." in (repo / "flavors/ecology/tests/tests.sh").read_text()
    answers = yaml.safe_load((repo / "flavors/ecology/.copier-answers.yml").read_text())
    assert (answers["_commit"], answers["name"], answers["template"]) == ("v99.0.0", "ecology", "flavor")
