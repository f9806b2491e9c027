"""The ``helm`` commands of a generated release workflow, run by Helm's own SDK (helm-python-sdk).

There is no helm binary here, so tests put this module on PATH as ``helm`` and run the
workflow's ``run:`` blocks as written. Only the subcommands and options those blocks
use are known; anything else fails, so a workflow that starts using another option
fails its test instead of being half-run. The one difference from the real CLI:
registries on 127.0.0.1 are spoken to over plain HTTP, as the test registry serves.

Credentials from ``helm registry login`` are kept in ``$HELM_REGISTRY_CONFIG``, as
Helm keeps them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import helm_python


def _plain_http(reference: str) -> bool:
    host = reference.removeprefix("oci://").split("/", 1)[0]
    return host.split(":", 1)[0] == "127.0.0.1"


def _client(plain_http: bool) -> helm_python.RegistryClient:
    return helm_python.RegistryClient(
        plain_http=plain_http, credentials_file=os.environ["HELM_REGISTRY_CONFIG"]
    )


def _lint(args: argparse.Namespace) -> int:
    report = helm_python.lint(args.chart, strict=args.strict)
    for message in report["messages"]:
        print(f"[{message['severity']}] {message['path']}: {message['error']}")
    print(f"{report['total_charts_linted']} chart(s) linted, {len(report['errors'])} chart(s) failed")
    return 1 if report["errors"] else 0


def _package(args: argparse.Namespace) -> int:
    Path(args.destination).mkdir(parents=True, exist_ok=True)
    archive = helm_python.package(args.chart, destination=args.destination)
    print(f"Successfully packaged chart and saved it to: {archive}")
    return 0


def _login(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print("Error: this stand-in only takes --password-stdin", file=sys.stderr)
        return 1
    plain_http = _plain_http(args.host)
    with _client(plain_http) as client:
        client.login(args.host, args.username, sys.stdin.read().strip(), plain_http=plain_http)
    print("Login Succeeded")
    return 0


def _push(args: argparse.Namespace) -> int:
    plain_http = _plain_http(args.remote)
    with _client(plain_http) as client:
        helm_python.push(args.chart, args.remote, client=client, plain_http=plain_http)
    print(f"Pushed: {args.chart} to {args.remote}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helm")
    commands = parser.add_subparsers(dest="command", required=True)
    lint = commands.add_parser("lint")
    lint.add_argument("chart")
    lint.add_argument("--strict", action="store_true")
    lint.set_defaults(run=_lint)
    package = commands.add_parser("package")
    package.add_argument("chart")
    package.add_argument("-d", "--destination", default=".")
    package.set_defaults(run=_package)
    registry = commands.add_parser("registry").add_subparsers(dest="registry_command", required=True)
    login = registry.add_parser("login")
    login.add_argument("host")
    login.add_argument("-u", "--username", required=True)
    login.add_argument("--password-stdin", action="store_true")
    login.set_defaults(run=_login)
    push = commands.add_parser("push")
    push.add_argument("chart")
    push.add_argument("remote")
    push.set_defaults(run=_push)
    return parser


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except helm_python.HelmError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
