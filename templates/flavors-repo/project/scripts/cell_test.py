#!/usr/bin/env python3
"""Write a sample cell's build folder exactly as NaaVRE-containerizer-service writes it.

CI builds this folder into the cell-test image, on the flavor's cell-build and
cell-runtime images, and runs the flavor's tests/tests.sh in it: a flavor whose
cells the containerizer cannot build fails before it is released. The folder
holds the containerizer's own Dockerfile and environment.yaml, rendered from its
templates at the commit CONTAINERIZER_COMMIT (downloaded when the script runs,
never copied here) with the variables and Jinja options of its code:

    Dockerfile        dockerfile_template_conda.jinja2 (title, base_image)
    environment.yaml  conda_env_template.jinja2 (a cell with no dependencies)

To follow a newer containerizer, change CONTAINERIZER_COMMIT. Needs Python 3.10+
and Jinja2 (the containerizer's version: pip install Jinja2==3.1.6).
"""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request
from pathlib import Path

try:
    import jinja2
except ImportError:  # the one package this script needs: say how to get it, not a traceback
    sys.exit(
        f"{Path(sys.argv[0]).name}: error: Jinja2 is not installed for {sys.executable}: "
        f"{sys.executable} -m pip install Jinja2 (Debian, Ubuntu: apt-get install python3-jinja2)"
    )

CONTAINERIZER_REPO = "NaaVRE/NaaVRE-containerizer-service"
CONTAINERIZER_COMMIT = "7bc4096d5265cc937a9affc04bfec4e0cb4cf4e3"
TEMPLATES_URL = (
    f"https://raw.githubusercontent.com/{CONTAINERIZER_REPO}/{CONTAINERIZER_COMMIT}/app/templates/"
)
DOCKERFILE_TEMPLATE = "dockerfile_template_conda.jinja2"
ENVIRONMENT_TEMPLATE = "conda_env_template.jinja2"
# A slug, as the containerizer makes every title; not `visualize-...`, which would
# swap the flavor's runtime image for a Jupyter one.
SAMPLE_TITLE = "flavor-cell-test"
TIMEOUT_SECONDS = 30
EXIT_ERROR = 1


def fetch(url: str) -> str:
    """The text at ``url``; raises OSError (with the URL) when it cannot be read."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return response.read().decode("utf-8")
    except (urllib.error.URLError, TimeoutError) as error:
        raise OSError(f"cannot download {url}: {getattr(error, 'reason', error)}") from None


def render(templates_url: str, build_image: str, runtime_image: str) -> dict[str, str]:
    """The cell's files by name, rendered as the containerizer's Containerizer class does."""
    sources = {name: fetch(templates_url + name) for name in (DOCKERFILE_TEMPLATE, ENVIRONMENT_TEMPLATE)}
    # The containerizer's Environment: PackageLoader('app', 'templates'), these two options.
    env = jinja2.Environment(loader=jinja2.DictLoader(sources), trim_blocks=True, lstrip_blocks=True)
    base_image = {"build": build_image, "runtime": runtime_image}
    return {
        # Containerizer.build_docker
        "Dockerfile": env.get_template(DOCKERFILE_TEMPLATE).render(title=SAMPLE_TITLE, base_image=base_image),
        # Containerizer.build_environment, for a cell that imports nothing
        "environment.yaml": env.get_template(ENVIRONMENT_TEMPLATE).render(
            base_image=base_image, conda_deps=[], pip_deps=[]
        ),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cell_test.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--build-image", required=True, help="the flavor's cell-build image and tag")
    parser.add_argument("--runtime-image", required=True, help="the flavor's cell-runtime image and tag")
    parser.add_argument("--output", type=Path, required=True, help="the folder to write the cell's files to")
    parser.add_argument(
        "--templates-url",
        default=TEMPLATES_URL,
        help="where the containerizer's templates are, ending with / (default: its app/templates/ at "
        "CONTAINERIZER_COMMIT)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        files = render(args.templates_url, args.build_image, args.runtime_image)
    except (OSError, jinja2.TemplateError) as error:
        print(f"{parser.prog}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    args.output.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.output / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
