#!/usr/bin/env python3
"""Write base_image_tags.json: the cell base images of every flavor, by flavor name and alias.

NaaVRE-containerizer-service serves this file (GET /base-image-tags) to pick the
build and runtime images of a containerized cell, and NaaVRE-helm points at the
copy attached to a release. Its shape is the containerizer's, exactly:

    {"<flavor or alias>": {"build": "<registry>/<prefix><flavor>-cell-build:<tag>",
                           "runtime": "<registry>/<prefix><flavor>-cell-runtime:<tag>"}}

Flavors with ``build_cell_base: false`` have no cell images and are left out.
A flavor_config.yaml without ``aliases`` has none, as in some NaaVRE/flavors configs.
The registry and the image prefix come from naavre-flavors.yml. Any broken
flavor_config.yaml is a one-line error naming the file, exit code 2, and nothing
is written. Needs Python 3.10+ and PyYAML. flavor_matrix.py reuses ``read_flavors``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    import yaml
except ImportError:  # the one package the scripts need: say how to get it, not a traceback
    sys.exit(
        f"{Path(sys.argv[0]).name}: error: PyYAML is not installed for {sys.executable}: "
        f"{sys.executable} -m pip install pyyaml (Debian, Ubuntu: apt-get install python3-yaml)"
    )

REPO = Path(__file__).resolve().parent.parent
SETTINGS_FILE = "naavre-flavors.yml"
CONFIG_FILE = "flavor_config.yaml"
FLAVOR_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
TAG = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+$")
BOOLEANS = ("build_jupyter", "build_cell_base", "free_disk_space")
REQUIRED_KEYS = ("flavor_name", *BOOLEANS)
# aliases may be left out (= none): some NaaVRE/flavors configs have no such key,
# and they must move into a repository made from this template unchanged.
KEYS = (*REQUIRED_KEYS, "aliases")
EXIT_USAGE = 2


class FlavorError(Exception):
    """A problem in the repository's files; the message names the file and the rule."""


@dataclass(frozen=True)
class Flavor:
    """One flavors/<name>/flavor_config.yaml, checked."""

    name: str
    build_jupyter: bool
    build_cell_base: bool
    free_disk_space: bool
    aliases: tuple[str, ...]


def read_settings(root: Path) -> dict[str, str]:
    """``registry`` and ``image_prefix`` from naavre-flavors.yml: the one place that names images."""
    path = root / SETTINGS_FILE
    data = _load_yaml(path, SETTINGS_FILE)
    for key in ("registry", "image_prefix"):
        if not isinstance(data.get(key), str):
            raise FlavorError(f"{SETTINGS_FILE}: {key} must be a string")
    if not data["registry"]:
        raise FlavorError(f"{SETTINGS_FILE}: registry must not be empty")
    return {"registry": data["registry"], "image_prefix": data["image_prefix"]}


def read_flavors(root: Path) -> list[Flavor]:
    """Every flavor under ``root``/flavors, sorted by name; raises FlavorError on the first problem."""
    folders = sorted(p for p in (root / "flavors").glob("*") if p.is_dir() and not p.name.startswith("."))
    flavors = [_read_flavor(folder) for folder in folders]
    owners: dict[str, str] = {}
    for flavor in flavors:
        owners[flavor.name] = f"flavors/{flavor.name}/{CONFIG_FILE}"
    for flavor in flavors:
        where = f"flavors/{flavor.name}/{CONFIG_FILE}"
        for alias in flavor.aliases:
            if alias in owners:
                other = owners[alias]
                what = "the name of a flavor" if alias in {f.name for f in flavors} else "an alias"
                raise FlavorError(f"{where}: alias '{alias}' is already {what} ({other})")
            owners[alias] = where
    return flavors


def _read_flavor(folder: Path) -> Flavor:
    where = f"flavors/{folder.name}/{CONFIG_FILE}"
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise FlavorError(f"{where}: missing (every folder under flavors/ is a flavor)")
    data = _load_yaml(path, where)
    missing = [key for key in REQUIRED_KEYS if key not in data]
    if missing:
        raise FlavorError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise FlavorError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
    name = data["flavor_name"]
    if not isinstance(name, str) or not FLAVOR_NAME.match(name):
        raise FlavorError(f"{where}: flavor_name must be lowercase letters, digits and single hyphens")
    if name != folder.name:
        raise FlavorError(f"{where}: flavor_name '{name}' must equal its folder name '{folder.name}'")
    for key in BOOLEANS:
        if not isinstance(data[key], bool):
            raise FlavorError(f"{where}: {key} must be true or false (got {data[key]!r})")
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list):
        raise FlavorError(f"{where}: aliases must be a list ([] for none)")
    for alias in aliases:
        if not isinstance(alias, str) or not FLAVOR_NAME.match(alias):
            rule = "must be lowercase letters, digits and single hyphens"
            raise FlavorError(f"{where}: alias {alias!r} {rule}")
        if alias == name:
            raise FlavorError(f"{where}: alias '{alias}' is the flavor's own name")
    if len(set(aliases)) != len(aliases):
        raise FlavorError(f"{where}: aliases must not repeat")
    booleans = (data[key] for key in BOOLEANS)
    return Flavor(name, *booleans, aliases=tuple(aliases))


def _load_yaml(path: Path, where: str) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FlavorError(f"{where}: missing") from None
    except (OSError, UnicodeDecodeError) as error:
        raise FlavorError(f"{where}: cannot be read: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "syntax error"
        raise FlavorError(f"{where}: not valid YAML{line}: {problem}") from None
    if not isinstance(data, dict):
        raise FlavorError(f"{where}: must be a YAML mapping of keys to values")
    return data


def image(registry: str, prefix: str, flavor: str, target: str, tag: str) -> str:
    """One of a flavor's images, e.g. ghcr.io/naavre/flavors/naavre-fl-vanilla-cell-build:v1.0.0."""
    return f"{registry.rstrip('/')}/{prefix}{flavor}-{target}:{tag}"


def base_image_tags(flavors: list[Flavor], registry: str, prefix: str, tag: str) -> dict[str, dict[str, str]]:
    """The containerizer's map: each flavor name and alias with cell images -> its two images."""
    tags = {}
    for flavor in flavors:
        if not flavor.build_cell_base:
            continue
        images = {
            "build": image(registry, prefix, flavor.name, "cell-build", tag),
            "runtime": image(registry, prefix, flavor.name, "cell-runtime", tag),
        }
        for key in (flavor.name, *flavor.aliases):
            tags[key] = dict(images)
    return dict(sorted(tags.items()))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="base_image_tags.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tag", required=True, help="release tag of the images, vX.Y.Z")
    parser.add_argument("--registry", help=f"registry path of the images (default: from {SETTINGS_FILE})")
    parser.add_argument("--image-prefix", help=f"prefix of the image names (default: from {SETTINGS_FILE})")
    parser.add_argument("--output", type=Path, help="write the JSON to this file instead of printing it")
    parser.add_argument("--root", type=Path, default=REPO, help="the flavors repository (default: here)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not TAG.match(args.tag):
        parser.error(f"--tag: must be vX.Y.Z, such as v1.2.3 (got {args.tag!r})")
    try:
        registry, prefix = args.registry, args.image_prefix
        if registry is None or prefix is None:
            settings = read_settings(args.root)
            registry = settings["registry"] if registry is None else registry
            prefix = settings["image_prefix"] if prefix is None else prefix
        tags = base_image_tags(read_flavors(args.root), registry, prefix, args.tag)
    except FlavorError as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    text = json.dumps(tags, indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
