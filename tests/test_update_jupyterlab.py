"""`update` and `check` on JupyterLab extension repositories, through the same machinery as services.

The template versions come from ``template_versions`` (conftest): v1.0.0 of the
jupyterlab template has no ``enableTelemetry`` line in .yarnrc.yml; v1.1.0 adds it.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from naavre_scaffold.cli import main
from naavre_scaffold.git import git
from tests.conftest import TELEMETRY_LINE
from tests.helpers import commit_all, has_conflict_markers_in_history, snapshot

NEWEST = "v1.1.1"


def _report(tmp_path: Path, command: str, *args: str) -> tuple[int, dict[str, dict]]:
    report = tmp_path / f"{command}.json"
    code = main([command, *args, "--json", str(report)])
    rows = json.loads(report.read_text())["repos"]
    return code, {Path(row["path"]).name: row for row in rows}


def test_a_template_change_reaches_an_extension_and_local_work_stays(make_extension, tmp_path: Path) -> None:
    repo = make_extension("viewer", kind="frontend-and-server", service="containerizer")
    assert TELEMETRY_LINE not in (repo / ".yarnrc.yml").read_text()
    widget = repo / "src/widget.ts"
    widget.write_text("// Our own widget code.\n" + widget.read_text())
    (repo / "src/extra.ts").write_text("export const extra = 1;\n")
    package = json.loads((repo / "package.json").read_text())
    package["version"] = "0.4.2"  # released since: the project's, never the template's
    (repo / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    commit_all(repo, "Our own work, and a release")

    code, rows = _report(tmp_path, "update", str(repo))

    assert code == 0
    row = rows["NaaVRE-viewer-jupyterlab"]
    assert (row["verdict"], row["from_version"], row["to_version"]) == ("updated", "v1.0.0", NEWEST)
    assert set(row["files"]) == {".copier-answers.yml", ".yarnrc.yml"}
    assert TELEMETRY_LINE in (repo / ".yarnrc.yml").read_text()
    assert widget.read_text().startswith("// Our own widget code.\n")
    assert (repo / "src/extra.ts").is_file()
    assert json.loads((repo / "package.json").read_text())["version"] == "0.4.2"
    answers = yaml.safe_load((repo / ".copier-answers.yml").read_text())
    assert (answers["_commit"], answers["kind"], answers["service"]) == (
        NEWEST,
        "frontend-and-server",
        "containerizer",
    )


def test_a_conflict_in_an_extension_is_reported_and_touches_nothing(make_extension, tmp_path: Path) -> None:
    repo = make_extension("clashing")
    yarnrc = repo / ".yarnrc.yml"
    yarnrc.write_text(yarnrc.read_text() + "enableTelemetry: true\n")
    commit_all(repo, "We share Yarn's telemetry")
    before = snapshot(repo)

    code, rows = _report(tmp_path, "update", str(repo))

    assert code == 1
    row = rows["NaaVRE-clashing-jupyterlab"]
    assert (row["verdict"], row["files"]) == ("conflict", [".yarnrc.yml"])
    assert snapshot(repo) == before
    assert not has_conflict_markers_in_history(repo)


def test_check_sees_an_extension_behind_then_current(make_extension, tmp_path: Path) -> None:
    repo = make_extension("checked")

    code, rows = _report(tmp_path, "check", str(repo))
    row = rows["NaaVRE-checked-jupyterlab"]
    assert (code, row["behind"], row["newest"], row["drift"]) == (1, True, NEWEST, [])

    assert main(["update", str(repo), "--commit", "--quiet"]) == 0
    git(repo, "merge", "--quiet", "--ff-only", f"template-update/{NEWEST}")
    code, rows = _report(tmp_path, "check", str(repo))
    row = rows["NaaVRE-checked-jupyterlab"]
    assert (code, row["version"], row["behind"], row["drift"]) == (0, NEWEST, False, []), row
