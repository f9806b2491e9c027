"""What the templates and the code must agree on, each rule written once, in templates/_shared/.

- A release tag: ``v`` and a SemVer 2 version without build metadata, as every
  generated release workflow checks it. The rule is ``release_version`` of
  templates/_shared/release.jinja, read from there (the bundled template's copy).
- A service's slug ``naavre-<name>-service`` and the camelCase of a hyphenated name:
  the macros of templates/_shared/names.jinja, which these functions mirror;
  tests/test_shared_rules.py renders the macros and holds both to the same results.
"""

from __future__ import annotations

import functools
import re

RELEASE_RULES = "templates/_shared/release.jinja"


@functools.cache
def _release() -> re.Pattern[str]:
    # Imported here: the template source loads Copier, which only this rule's first use needs.
    from jinja2 import Environment, FileSystemLoader

    from naavre_scaffold.source import bundled_root

    module = Environment(loader=FileSystemLoader(bundled_root())).get_template(RELEASE_RULES).module
    return re.compile(rf"v?(?P<version>{module.release_version})")  # type: ignore[attr-defined]


def release_version(text: str) -> str | None:
    """The version in a release tag or version: v1.2.3-rc.1 or 1.2.3-rc.1 -> 1.2.3-rc.1; else None."""
    match = _release().fullmatch(text)
    return match["version"] if match else None


def service_slug(name: str) -> str:
    """A service's chart, image name and (after a ``/``) base path.

    data-quality -> naavre-data-quality-service.
    """
    return f"naavre-{name}-service"


def camel_case(name: str) -> str:
    """data-quality -> dataQuality, naavre-x-service -> naavreXService.

    Each later word as Jinja's ``capitalize`` has it: its first letter upper, the rest lower.
    """
    first, *rest = name.split("-")
    return first + "".join(word.capitalize() for word in rest)
