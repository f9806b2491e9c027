"""How ``update`` results are shown: a table for people, JSON for machines."""

from __future__ import annotations

from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from naavre_scaffold.update import Outcome

_STYLE = {"updated": "green", "up-to-date": "dim", "conflict": "yellow", "refused": "yellow", "failed": "red"}
SHOWN_FILES = 4


def _files(files: list[str]) -> str:
    shown = ", ".join(files[:SHOWN_FILES])
    return f"{shown} (+{len(files) - SHOWN_FILES} more)" if len(files) > SHOWN_FILES else shown


def update_table(outcomes: list[Outcome], console: Console) -> None:
    """One row per subproject: repo, verdict, versions, files, message; then the counts."""
    table = Table(show_edge=False, pad_edge=False)
    for column in ("repo", "verdict", "from", "to", "files", "message"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        verdict = f"[{_STYLE[o.verdict]}]{o.verdict}[/]"
        table.add_row(o.path, verdict, o.from_version or "", o.to_version or "", _files(o.files), o.message)
    console.print(table)
    counts = {v: sum(o.verdict == v for o in outcomes) for v in _STYLE}
    console.print(", ".join(f"{n} {v}" for v, n in counts.items() if n) or "nothing to update")


def update_json(outcomes: list[Outcome]) -> dict:
    counts = {v: sum(o.verdict == v for o in outcomes) for v in _STYLE}
    return {"counts": counts, "repos": [asdict(o) for o in outcomes]}
