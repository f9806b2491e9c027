#!/usr/bin/env python3
"""Print the CI build matrix: one entry per flavor to build, with its booleans.

The output is one line of JSON, a list for `strategy.matrix.include`:

    [{"flavor": "vanilla", "build_jupyter": true, "build_cell_base": true, "free_disk_space": false,
      "jupyter_image": "ghcr.io/naavre/flavors/naavre-fl-vanilla-jupyter", "cell_build_image": ...,
      "cell_runtime_image": ...}]

The image names (without a tag) come from naavre-flavors.yml, so that the
workflows name no image themselves.

A release, the weekly schedule and a manual run build every flavor (--event
release|schedule|workflow_dispatch, or --all). A pull request or a push builds
only the flavors whose folder changed, given the changed files (--changed-files,
one path per line, `-` for standard input); a change to what every image is
built from (docker/, scripts/, schemas/, naavre-flavors.yml, the workflows)
builds them all. An empty list means nothing to build. A broken
flavor_config.yaml is a one-line error naming the file, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from base_image_tags import REPO, SETTINGS_FILE, Flavor, FlavorError, read_flavors, read_settings

ALL_FLAVOR_EVENTS = ("release", "schedule", "workflow_dispatch")
CHANGE_EVENTS = ("pull_request", "push")
# Paths that every flavor's images or CI depend on: a change there rebuilds all.
SHARED_PREFIXES = ("docker/", "scripts/", "schemas/", ".github/workflows/")
SHARED_FILES = (SETTINGS_FILE,)
EXIT_USAGE = 2


def changed_flavors(flavors: list[Flavor], changed: list[str]) -> list[Flavor]:
    """The flavors that ``changed`` (paths relative to the repository root) can affect."""
    paths = [path.strip().removeprefix("./") for path in changed if path.strip()]
    if any(path in SHARED_FILES or path.startswith(SHARED_PREFIXES) for path in paths):
        return list(flavors)
    touched = {path.split("/")[1] for path in paths if path.startswith("flavors/") and path.count("/") >= 2}
    return [flavor for flavor in flavors if flavor.name in touched]


def matrix(flavors: list[Flavor], registry: str, prefix: str) -> list[dict[str, object]]:
    """``strategy.matrix.include`` entries, one per flavor."""
    base = registry.rstrip("/") + "/" + prefix
    return [
        {
            "flavor": flavor.name,
            "build_jupyter": flavor.build_jupyter,
            "build_cell_base": flavor.build_cell_base,
            "free_disk_space": flavor.free_disk_space,
            "jupyter_image": f"{base}{flavor.name}-jupyter",
            "cell_build_image": f"{base}{flavor.name}-cell-build",
            "cell_runtime_image": f"{base}{flavor.name}-cell-runtime",
        }
        for flavor in flavors
    ]


def _read_lines(source: str) -> list[str]:
    if source == "-":
        return sys.stdin.read().splitlines()
    return Path(source).read_text(encoding="utf-8").splitlines()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flavor_matrix.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--event", required=True, help="the GitHub event name (github.event_name)")
    parser.add_argument("--changed-files", help="file listing the changed paths, one per line (- for stdin)")
    parser.add_argument("--all", action="store_true", help="every flavor, whatever changed")
    parser.add_argument("--root", type=Path, default=REPO, help="the flavors repository (default: here)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    every = args.all or args.event in ALL_FLAVOR_EVENTS
    if not every and args.event not in CHANGE_EVENTS:
        known = ", ".join(ALL_FLAVOR_EVENTS + CHANGE_EVENTS)
        parser.error(f"--event: must be one of {known} (got {args.event!r})")
    if not every and args.changed_files is None:
        parser.error(f"--changed-files: required for a {args.event} event (or give --all)")
    try:
        settings = read_settings(args.root)
        flavors = read_flavors(args.root)
        if not every:
            flavors = changed_flavors(flavors, _read_lines(args.changed_files))
    except FlavorError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as error:
        message = f"--changed-files: {error.strerror}: {args.changed_files}"
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    entries = matrix(flavors, settings["registry"], settings["image_prefix"])
    print(json.dumps(entries, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
