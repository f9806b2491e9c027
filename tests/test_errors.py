"""One error hierarchy, and whose problem each failure is: the same answer from `check` and `update`.

How `check` and `update` report a broken .naavre-scaffold.yml and a --vcs-ref that one
template source lacks is tested on tiny templates in test_check_mechanics.py and
test_update_mechanics.py.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from naavre_scaffold import errors

PACKAGE = Path(errors.__file__).parent
# Exceptions defined elsewhere that never reach a person: each is caught and turned into a
# report, or into one of errors.py's, where it is raised.
INTERNAL = {
    "fleet/sources.py": {"Blocked"},  # a CheckReport's error and Problem, an Outcome's message
    "fleet/github.py": {"_Retryable"},  # a GitHubError, retried once
    "registration/yaml_text.py": {"LayoutError"},  # plan.edit: a ScaffoldError naming the file
    "registration/edits.py": {"AlreadyThere"},  # plan.edit: AlreadyRegistered
}


def _exception_classes(path: Path) -> set[str]:
    """Classes defined in ``path`` whose bases are exceptions (by name: ...Error, Exception, or ours)."""
    ours = {name for name in errors.__all__ if not name.startswith("EXIT_")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(base).split(".")[-1] for base in node.bases}
            if bases & ours or any(b.endswith(("Error", "Exception")) for b in bases):
                found.add(node.name)
    return found


def test_every_error_a_person_meets_is_defined_in_errors_py() -> None:
    defined = {
        path.relative_to(PACKAGE).as_posix(): classes
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "errors.py" and (classes := _exception_classes(path))
    }
    assert defined == INTERNAL


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("UsageError", errors.EXIT_USAGE),
        ("RepositoryError", errors.EXIT_FAILED),
        ("RepositoryBusy", errors.EXIT_FAILED),
        ("AlreadyRegistered", errors.EXIT_FAILED),
        ("TemplateSourceError", errors.EXIT_TOOL),
        ("GitError", errors.EXIT_TOOL),
        ("GitHubError", errors.EXIT_TOOL),
        ("ToolMissingError", errors.EXIT_TOOL),
        ("Interrupted", errors.EXIT_INTERRUPTED),
    ],
)
def test_each_error_carries_its_exit_code(name: str, code: int) -> None:
    error = getattr(errors, name, None)
    assert error is not None and issubclass(error, errors.ScaffoldError), f"errors.py has no {name}"
    assert name in errors.__all__
    assert error.exit_code == code


def test_the_old_homes_still_name_the_same_classes() -> None:
    from naavre_scaffold.registration import AlreadyRegistered

    assert AlreadyRegistered is getattr(errors, "AlreadyRegistered", None)
