"""Each rule the templates and the code share is written once, in templates/_shared/, and both
sides give the same answers: the macros rendered by Jinja, the bash the release workflows run,
and naavre_scaffold/rules.py."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader

from naavre_scaffold import rules

ROOT = Path(__file__).resolve().parent.parent
ENV = Environment(loader=FileSystemLoader(ROOT))

NAMES = ["data-quality", "catalogue", "a-b-c", "x2-y3", "vl-config"]
# (tag, whether it is a release tag): SemVer 2 with a "v", no leading zeros, no build metadata.
TAGS = [
    ("v1.2.3", True),
    ("v0.0.0", True),
    ("v10.20.30", True),
    ("v1.2.3-rc.1", True),
    ("v1.2.3-rc1", True),
    ("v1.2.3-0", True),
    ("v1.2.3-alpha-beta.x-1", True),
    ("1.2.3", False),  # no "v"
    ("v1.2", False),
    ("v01.2.3", False),
    ("v1.02.3", False),
    ("v1.2.3-01", False),
    ("v1.2.3+build.1", False),
    ("v1.2.3-", False),
    ("v1.2.3-rc..1", False),
    ("latest", False),
    ("v1.2.3\nv4.5.6", False),
]


def _macro(name: str, argument: str) -> str:
    return getattr(ENV.get_template("templates/_shared/names.jinja").module, name)(argument)


@pytest.mark.parametrize("name", NAMES)
def test_names_are_the_same_in_the_templates_and_the_code(name: str) -> None:
    assert _macro("service_slug", name) == rules.service_slug(name) == f"naavre-{name}-service"
    assert _macro("camel_case", name) == rules.camel_case(name)
    assert _macro("camel_case", rules.service_slug(name)) == rules.camel_case(rules.service_slug(name))


def test_camel_case_is_what_naavre_helm_writes() -> None:
    assert rules.camel_case("naavre-data-quality-service") == "naavreDataQualityService"
    assert rules.camel_case("data-quality") == "dataQuality"


def _bash_accepts(tag: str) -> bool:
    """Run the release workflows' tag check, as rendered, on ``tag``."""
    check = ENV.get_template("templates/_shared/release.jinja").module.check_release_tag()
    proc = subprocess.run(["bash", "-c", check], env={"TAG": tag}, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    if proc.returncode:
        assert f"'{tag}' is not v<SemVer>" in proc.stdout
    return proc.returncode == 0


@pytest.mark.parametrize(("tag", "is_release"), TAGS)
def test_release_tags_are_the_same_in_the_workflows_and_the_code(tag: str, is_release: bool) -> None:
    assert _bash_accepts(tag) is is_release
    # The code also reads a bare version (register --version 1.2.3) as its tag's.
    bare_of_a_release = not tag.startswith("v") and _bash_accepts(f"v{tag}")
    assert (rules.release_version(tag) is not None) is (is_release or bare_of_a_release)


def test_release_version_takes_the_v_off() -> None:
    assert rules.release_version("v1.2.3-rc.1") == rules.release_version("1.2.3-rc.1") == "1.2.3-rc.1"
    assert rules.release_version("v1.2.3") == "1.2.3"
