"""Run check-jsonschema's own command once per argument list, all in one process.

check-jsonschema checks files against one schema per run, and starting it takes
about a second (its format checkers' imports), so ``verify`` runs it once for all
the schemas a repository needs. This file is run as a script by the Python that
check-jsonschema is installed in, which need not have naavre_scaffold: it imports
nothing of ours.

    python schema_batch.py '[["--builtin-schema", "vendor.dependabot", "a.yml"], ...]'

prints a JSON list with, for each argument list, ``[exit code, what it printed]``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

try:
    from check_jsonschema.cli.main_command import main as check_jsonschema  # type: ignore[import-untyped]
except ImportError as error:  # a Python without it: the caller reports this line as the checks' failure
    sys.exit(f"check-jsonschema cannot be imported by {sys.executable}: {error}")


def main() -> None:
    runs = []
    for args in json.loads(sys.argv[1]):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            # As a command line would run it; standalone_mode=False returns the exit code.
            code = check_jsonschema.main(args, prog_name="check-jsonschema", standalone_mode=False)
        runs.append([code or 0, printed.getvalue()])
    print(json.dumps(runs))


if __name__ == "__main__":
    main()
