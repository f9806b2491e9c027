"""What to do after ``new``: the commands and the NaaVRE-helm snippet, as text."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from naavre_scaffold.naavre_helm import chart_dependency, service_values


def _indent(text: str, prefix: str = "    ") -> str:
    return "".join(prefix + line if line.strip() else line for line in text.splitlines(True))


def _yaml(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=1000)


def service(path: Path, a: Mapping[str, Any]) -> str:
    """Next steps for a new service, with the blocks to paste into NaaVRE-helm."""
    chart = a["slug"]
    dependency = _yaml([chart_dependency(chart, a["chart_repository"])])
    values = _yaml({chart: service_values(chart)})
    return f"""Next steps:
  cd {path}
  uv sync && uv run pytest          # run the service's tests
  uv run fastapi dev app/main.py    # serve it on http://127.0.0.1:8000/docs
  git remote add origin git@github.com:{a["github_org"]}/{a["repo_name"]}.git
  git push -u origin main
  Publish a GitHub release tagged v0.1.0: it pushes the image {a["image"]}:v0.1.0
  and the chart {a["chart_repository"]}/{chart} version 0.1.0.

Then deploy it with NaaVRE-helm:
  naavre/Chart.yaml, under dependencies:
{_indent(dependency)}
  naavre/values.yaml (set the host and realm of your deployment):
{_indent(values)}
  then run ./deploy.sh dependency-update
"""
