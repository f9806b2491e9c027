"""``naavre-scaffold register path``."""

from __future__ import annotations

import argparse
import sys

from naavre_scaffold.cli._common import add_command, existing_folder, folder_option
from naavre_scaffold.errors import EXIT_OK
from naavre_scaffold.registration import LabOptions, patches, register, review_commands


def add(commands: argparse._SubParsersAction) -> None:
    parser = add_command(
        commands,
        "register",
        register,
        epilog=(
            "exit status: 0 registered (or shown, with --dry-run); 1 already registered; 2 usage "
            "error (a wrong or dirty checkout, a bad version), nothing written; 3 a file could not be "
            "edited as it is laid out"
        ),
    )
    parser.add_argument(
        "path", type=existing_folder, help="the component's folder (made by naavre-scaffold new)"
    )
    parser.add_argument(
        "--naavre-helm", type=folder_option("--naavre-helm"), metavar="DIR", help="a NaaVRE-helm checkout"
    )
    parser.add_argument(
        "--flavors", type=folder_option("--flavors"), metavar="DIR", help="a flavors repository checkout"
    )
    parser.add_argument(
        "--version",
        metavar="X",
        help="the release to pin (1.2.3 or v1.2.3); default: the component's newest release tag "
        "(for a service without one, 0.1.0, its first release)",
    )
    parser.add_argument("--lab", metavar="SLUG", help="a flavor's virtual lab name (default: the flavor's)")
    lab = parser.add_argument_group("a flavor's virtual lab (its cells token goes in its encrypted file)")
    lab.add_argument(
        "--cell-github-url",
        metavar="URL",
        help="needed: the GitHub repository the lab's cells are pushed to, https://github.com/<owner>/<repo>",
    )
    lab.add_argument(
        "--registry-url",
        metavar="REF",
        help="where the cells' images go (default: ghcr.io/<owner>/<repo> of --cell-github-url)",
    )
    lab.add_argument(
        "--module-mapping-url",
        metavar="URL",
        help="the module-to-conda-package map for the containerizer (default: NaaVRE-conf's, as every lab)",
    )
    lab.add_argument(
        "--community",
        action="append",
        default=[],
        metavar="KEY",
        help="a community the lab shares cells with, repeatable (default: naavre)",
    )
    lab.add_argument(
        "--label", action="append", default=[], metavar="KEY", help="a label of the lab, repeatable"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the edits as patches; write nothing")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    lab = LabOptions(
        args.cell_github_url,
        args.registry_url,
        args.module_mapping_url,
        tuple(args.community),
        tuple(args.label),
    )
    registration = register(
        args.path,
        naavre_helm_dir=args.naavre_helm,
        flavors_dir=args.flavors,
        version=args.version,
        lab=args.lab,
        dry_run=args.dry_run,
        lab_options=lab,
    )
    if args.dry_run:
        for checkout, patch in patches(registration).items():
            print(f"# {checkout}: apply at its root with git apply", flush=True)
            sys.stdout.write(patch)
        return EXIT_OK
    print(f"Registered the {registration.kind} {registration.name}:")
    for edit in registration.edits:
        print(f"  {'added   ' if edit.before is None else 'modified'} {edit.checkout / edit.path}")
    for note in registration.notes:
        print(f"Note: {note}")
    # git diff shows an added (untracked) file only once git add -N has marked it.
    print("Nothing is committed. git status lists these files; to review them all with git diff:")
    for command in review_commands(registration):
        print(f"  {command}")
    print("Then commit them, and:")
    for step in registration.next_steps:
        print(f"  {step}")
    return EXIT_OK
