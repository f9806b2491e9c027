"""`status`: the fleet at a glance, from a local stand-in of the GitHub API and from checkouts.

The stand-in answers from a script keyed by path and query; it records every request,
and each test checks the whole list (method, path, query, the headers GitHub needs),
so an unexpected request fails the test. It serves the organisation's repositories in
three pages linked by ``Link: rel="next"`` headers, a rate limit that resets 1-2 s
ahead (waited out), a secondary limit with ``retry-after`` and a 502 (each tried again).
The template is a real git repository with tags, so the newest version is Copier's own.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import pytest
import yaml

from naavre_scaffold import __version__, status
from naavre_scaffold.cli import main
from naavre_scaffold.errors import EXIT_OK, EXIT_TOOL, EXIT_USAGE
from naavre_scaffold.fleet import github
from naavre_scaffold.fleet.status_output import REPO_KEYS, REPORT_KEYS
from tests.helpers import build_template, commit_all, make_repo

TOKEN = "test-token-not-a-secret"
ORG = "NaaVRE"
VERSIONS: dict[str, dict[str, str | bytes | None]] = {
    "v1.0.0": {"README.md": "# tiny\n", "settings.ini": "[test]\ntimeout = 20\n"},
    "v1.1.0": {"settings.ini": "[test]\ntimeout = 15\n"},
}
NEWEST = "v1.1.0"
Answer = tuple[int, Any, dict[str, str]]


@pytest.fixture
def template(tmp_path: Path) -> Path:
    return build_template(tmp_path / "template", VERSIONS)


class _StandIn(BaseHTTPRequestHandler):
    """GitHub's API as a script: ``(path, sorted query)`` -> the answers to give, in turn.

    A request the script has no (more) answer for gets 418, and stays in ``requests``.
    """

    requests: ClassVar[list[dict[str, Any]]] = []
    script: ClassVar[dict[tuple[str, tuple[tuple[str, str], ...]], list[Answer]]] = {}

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = tuple(sorted(parse_qsl(url.query)))
        self.requests.append(
            {
                "method": self.command,
                "path": url.path,
                "query": dict(query),
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "time": time.time(),
            }
        )
        answers = self.script.get((url.path, query))
        status, payload, headers = answers.pop(0) if answers else (418, {"message": "unexpected"}, {})
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api(monkeypatch) -> Iterator[str]:
    """The stand-in's base URL; GITHUB_API_URL and a made-up token point the command at it."""
    _StandIn.requests = []
    _StandIn.script = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setenv("GITHUB_API_URL", base)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.delenv("NAAVRE_SCAFFOLD_GITHUB_MAX_WAIT", raising=False)
    monkeypatch.setattr(github, "RETRY_DELAY", 0.1)
    yield base
    server.shutdown()
    server.server_close()


def _on(path: str, query: dict[str, str], *answers: Answer) -> None:
    _StandIn.script.setdefault((path, tuple(sorted(query.items()))), []).extend(answers)


def _ok(payload: Any, headers: dict[str, str] | None = None) -> Answer:
    return (200, payload, headers or {})


def _repo(name: str, branch: str = "main", archived: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "full_name": f"{ORG}/{name}",
        "html_url": f"https://github.com/{ORG}/{name}",
        "default_branch": branch,
        "archived": archived,
    }


def _answers_file(answers: dict[str, Any]) -> dict[str, Any]:
    """A contents API answer for a file: its text base64-encoded, as GitHub sends it (with newlines)."""
    text = yaml.safe_dump(answers).encode()
    return {"type": "file", "encoding": "base64", "content": base64.encodebytes(text).decode()}


def _pr_url(number: int) -> str:
    return f"https://github.com/{ORG}/x/pull/{number}"


def _pull(number: int, branch: str, sha: str) -> dict[str, Any]:
    return {
        "number": number,
        "html_url": _pr_url(number),
        "head": {"ref": branch, "sha": sha},
    }


def _runs(*runs: tuple[str, str | None]) -> Answer:
    found = [{"status": status, "conclusion": conclusion} for status, conclusion in runs]
    return _ok({"total_count": len(found), "check_runs": found})


def _combined(state: str, *states: str) -> Answer:
    return _ok({"state": state, "total_count": len(states), "statuses": [{"state": s} for s in states]})


# Every request the organisation run must make, in order: (path, query).
LISTING = f"/orgs/{ORG}/repos"


def _fleet(base: str, template: Path) -> tuple[list[tuple[str, dict[str, str]]], int]:
    """Script the organisation: 7 repositories on 3 pages.

    Returns the requests expected, in order, and when the scripted rate limit resets.
    """
    first = {"type": "all", "per_page": "100"}
    page = [{**first, "page": "2"}, {**first, "page": "3"}]
    link = [f'<{base}{LISTING}?type=all&per_page=100&page={n}>; rel="next"' for n in (2, 3)]
    reset = int(time.time()) + 2  # GitHub's reset is whole seconds since the epoch
    _on(LISTING, first, _ok([_repo("NaaVRE-alpha-service"), _repo("naavre-docs")], {"Link": link[0]}))
    _on(
        LISTING,
        page[0],
        (
            403,
            {"message": "API rate limit exceeded"},
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        ),
        _ok(
            [_repo("old-thing", archived=True), _repo("NaaVRE-beta-jupyterlab", "develop")], {"Link": link[1]}
        ),
    )
    _on(LISTING, page[1], _ok([_repo("flavors"), _repo("NaaVRE-gamma-service"), _repo("other-copier")]))

    def adopted(template_name: str, commit: str) -> list[Answer]:
        return [
            _ok(_answers_file({"template": template_name, "_src_path": str(template), "_commit": commit}))
        ]

    missing: Answer = (404, {"message": "Not Found"}, {})
    contents = {
        "flavors": ("main", adopted("flavors-repo", "v1.0.0")),
        "NaaVRE-alpha-service": ("main", adopted("service", "v1.0.0")),
        "NaaVRE-beta-jupyterlab": ("develop", adopted("jupyterlab", NEWEST)),
        "naavre-docs": ("main", [missing]),
        "NaaVRE-gamma-service": ("main", [(502, {"message": "Bad Gateway"}, {}), missing]),
        "other-copier": ("main", [_ok(_answers_file({"template": "cookiecutter-x", "_commit": "v9"}))]),
    }
    for name, (branch, answers) in contents.items():
        _on(f"/repos/{ORG}/{name}/contents/.copier-answers.yml", {"ref": branch}, *answers)
    pulls = {
        "flavors": [_pull(3, "template-update/v1.1.0", "f3"), _pull(2, "template-update/v0.9.0", "f2")],
        "NaaVRE-alpha-service": [
            _pull(7, "template-update/v1.1.0", "a7"),
            _pull(8, "feature/readme", "a8"),
            _pull(6, "template-update/v1.0.1", "a6"),
        ],
        "NaaVRE-beta-jupyterlab": [],
    }
    ci = {
        "f3": (_runs(("in_progress", None)), _combined("success", "success")),  # pending
        "f2": (_runs(), _combined("pending")),  # none: GitHub says pending with no statuses
        "a7": (_runs(("completed", "success"), ("completed", "skipped")), _combined("pending")),  # success
        "a6": (_runs(("completed", "failure")), _combined("success", "success")),  # failure
    }
    for name, found in pulls.items():
        answers = [_ok(found)]
        if name == "NaaVRE-beta-jupyterlab":  # a secondary rate limit first
            answers.insert(0, (403, {"message": "secondary rate limit"}, {"retry-after": "1"}))
        _on(f"/repos/{ORG}/{name}/pulls", {"state": "open", "per_page": "100"}, *answers)
    for sha, (runs, combined) in ci.items():
        name = "flavors" if sha.startswith("f") else "NaaVRE-alpha-service"
        _on(f"/repos/{ORG}/{name}/commits/{sha}/check-runs", {"per_page": "100"}, runs)
        _on(f"/repos/{ORG}/{name}/commits/{sha}/status", {"per_page": "100"}, combined)

    expected = [(LISTING, first), (LISTING, page[0]), (LISTING, page[0]), (LISTING, page[1])]
    for name in sorted([*contents, "old-thing"], key=str.lower):
        if name == "old-thing":
            continue  # archived: never asked about
        contents_path = f"/repos/{ORG}/{name}/contents/.copier-answers.yml"
        tries = 2 if name == "NaaVRE-gamma-service" else 1
        expected += [(contents_path, {"ref": contents[name][0]})] * tries
        if name in pulls:
            tries = 2 if name == "NaaVRE-beta-jupyterlab" else 1
            expected += [(f"/repos/{ORG}/{name}/pulls", {"state": "open", "per_page": "100"})] * tries
            for pull in pulls[name]:
                if pull["head"]["ref"].startswith("template-update/"):
                    sha = pull["head"]["sha"]
                    expected += [
                        (f"/repos/{ORG}/{name}/commits/{sha}/check-runs", {"per_page": "100"}),
                        (f"/repos/{ORG}/{name}/commits/{sha}/status", {"per_page": "100"}),
                    ]
    return expected, reset


def _check_requests(expected: list[tuple[str, dict[str, str]]]) -> None:
    """Every request the stand-in got, in full, and nothing else."""
    got = _StandIn.requests
    assert [(r["method"], r["path"], r["query"]) for r in got] == [("GET", p, q) for p, q in expected]
    for request in got:
        headers = request["headers"]
        assert headers["authorization"] == f"Bearer {TOKEN}"
        assert headers["accept"] == "application/vnd.github+json"
        assert headers["x-github-api-version"] == "2022-11-28"
        assert headers["user-agent"] == f"naavre-scaffold/{__version__}"
        assert "content-length" not in headers and "content-type" not in headers  # GETs carry no body


def test_organisation_status_in_full(api: str, template: Path, tmp_path: Path, capsys) -> None:
    expected, reset = _fleet(api, template)
    markdown = tmp_path / "dashboard.md"

    code = main(["status", "--org", ORG, "--json", "-", "--markdown", str(markdown)])

    captured = capsys.readouterr()
    assert code == EXIT_OK, captured.err
    _check_requests(expected)
    # The rate limit was waited out until its reset, not retried at once.
    listing = [r for r in _StandIn.requests if r["path"] == LISTING]
    assert listing[2]["time"] >= reset
    # The secondary limit's retry-after (1 s) too.
    beta_pulls = [
        r["time"] for r in _StandIn.requests if r["path"] == f"/repos/{ORG}/NaaVRE-beta-jupyterlab/pulls"
    ]
    assert beta_pulls[1] - beta_pulls[0] >= 0.9
    assert all(not answers for answers in _StandIn.script.values())  # every scripted answer was asked for

    report = json.loads(captured.out)  # stdout holds only the JSON
    assert set(report) == {"schema", "schema_version", "naavre_scaffold_version", *REPORT_KEYS}
    assert (report["schema"], report["schema_version"], report["org"]) == ("naavre-scaffold/status", 1, ORG)
    assert report["archived"] == [f"{ORG}/old-thing"]
    assert report["not_adopted"] == [
        {"name": f"{ORG}/{name}", "url": f"https://github.com/{ORG}/{name}"}
        for name in ("naavre-docs", "NaaVRE-gamma-service", "other-copier")
    ]
    rows = {row["name"].split("/")[1]: row for row in report["repos"]}
    assert list(rows) == ["flavors", "NaaVRE-alpha-service", "NaaVRE-beta-jupyterlab"]
    assert all(set(row) == set(REPO_KEYS) for row in report["repos"])
    states = {
        name: (row["template"], row["version"], row["newest"], row["behind"], row["state"], row["drift"])
        for name, row in rows.items()
    }
    assert states == {
        "flavors": ("flavors-repo", "v1.0.0", NEWEST, True, "behind", None),
        "NaaVRE-alpha-service": ("service", "v1.0.0", NEWEST, True, "behind", None),
        "NaaVRE-beta-jupyterlab": ("jupyterlab", NEWEST, NEWEST, False, "current", None),
    }
    pulls = {
        name: [(p["number"], p["branch"], p["ci"]) for p in row["pull_requests"]]
        for name, row in rows.items()
    }
    update = "template-update/"
    assert pulls == {
        "flavors": [(3, update + "v1.1.0", "pending"), (2, update + "v0.9.0", "none")],
        "NaaVRE-alpha-service": [(7, update + "v1.1.0", "success"), (6, update + "v1.0.1", "failure")],
        "NaaVRE-beta-jupyterlab": [],
    }
    assert report["counts"] == {
        "adopted": 3,
        "current": 1,
        "behind": 2,
        "drifted": 0,
        "failed": 0,
        "not_adopted": 3,
        "archived": 1,
        "pull_requests": 4,
    }
    # Progress: one [n/N] line per repository that is not archived, as it finishes.
    progress = [line for line in captured.err.splitlines() if line.startswith("[")]
    assert progress == [
        f"[1/6] {ORG}/flavors: behind",
        f"[2/6] {ORG}/NaaVRE-alpha-service: behind",
        f"[3/6] {ORG}/NaaVRE-beta-jupyterlab: current",
        f"[4/6] {ORG}/naavre-docs: not adopted",
        f"[5/6] {ORG}/NaaVRE-gamma-service: not adopted",
        f"[6/6] {ORG}/other-copier: not adopted",
    ]
    assert "3 adopted, 1 current, 2 behind, 0 drifted, 0 failed, 3 not adopted yet" in captured.err

    table = _markdown_table(markdown.read_text())
    assert table[0] == ["repository", "template", "version → newest", "behind", "update pull requests"]
    assert table[1:] == [
        [
            f"[{ORG}/flavors](https://github.com/{ORG}/flavors)",
            "flavors-repo",
            f"v1.0.0 → {NEWEST}",
            "**behind**",
            f"[#3]({_pr_url(3)}) ⏳ pending<br>[#2]({_pr_url(2)}) ∅ none",
        ],
        [
            f"[{ORG}/NaaVRE-alpha-service](https://github.com/{ORG}/NaaVRE-alpha-service)",
            "service",
            f"v1.0.0 → {NEWEST}",
            "**behind**",
            f"[#7]({_pr_url(7)}) ✅ success<br>[#6]({_pr_url(6)}) ❌ failure",
        ],
        [
            f"[{ORG}/NaaVRE-beta-jupyterlab](https://github.com/{ORG}/NaaVRE-beta-jupyterlab)",
            "jupyterlab",
            f"{NEWEST} → {NEWEST}",
            "current",
            "none",
        ],
    ]
    text = markdown.read_text()
    assert text.startswith("# Template dashboard\n\nGenerated at ")
    assert f"for [{ORG}](https://github.com/{ORG})." in text
    assert (
        "**3** adopted: 1 current, 2 behind, 0 drifted, 0 failed; **3** not adopted yet; 1 archived" in text
    )
    assert text.split("## Not adopted yet\n\n")[1].splitlines() == [
        f"- [{ORG}/naavre-docs](https://github.com/{ORG}/naavre-docs)",
        f"- [{ORG}/NaaVRE-gamma-service](https://github.com/{ORG}/NaaVRE-gamma-service)",
        f"- [{ORG}/other-copier](https://github.com/{ORG}/other-copier)",
    ]


def _markdown_table(text: str) -> list[list[str]]:
    """The rows of the one table in ``text`` (header first, the --- row left out), cells stripped."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    cells = [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows]
    assert set(cells[1]) == {"---"}
    return [cells[0], *cells[2:]]


def test_a_rate_limit_beyond_the_cap_fails_at_once_with_when_it_resets(api: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv("NAAVRE_SCAFFOLD_GITHUB_MAX_WAIT", "5")
    reset = int(time.time()) + 3600
    limited = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    _on(LISTING, {"type": "all", "per_page": "100"}, (429, {"message": "API rate limit exceeded"}, limited))
    started = time.monotonic()

    code = main(["status", "--org", ORG])

    err = capsys.readouterr().err
    assert code == EXIT_TOOL
    assert time.monotonic() - started < 5  # no waiting
    [line] = [line for line in err.splitlines() if "error" in line]
    until = time.strftime("%H:%M:%S UTC", time.gmtime(reset))
    assert line.startswith(f"naavre-scaffold status: error: GitHub's API rate limit is used up until {until}")
    assert "NAAVRE_SCAFFOLD_GITHUB_MAX_WAIT" in line and "Traceback" not in err
    _check_requests([(LISTING, {"type": "all", "per_page": "100"})])


def test_a_rejected_token_and_a_failing_server_each_end_in_one_line(api: str, capsys) -> None:
    first = {"type": "all", "per_page": "100"}
    _on(LISTING, first, (401, {"message": "Bad credentials"}, {}))
    assert main(["status", "--org", ORG]) == EXIT_TOOL
    assert capsys.readouterr().err.splitlines()[-1] == (
        "naavre-scaffold status: error: GitHub rejected the token: Bad credentials (401); give a valid token"
    )

    _on(LISTING, first, (503, {"message": "down"}, {}), (503, {"message": "down"}, {}))
    assert main(["status", "--org", ORG]) == EXIT_TOOL
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "naavre-scaffold status: error: GitHub failed (503): down (tried twice)"
    _check_requests([(LISTING, first)] * 3)


def test_a_template_that_cannot_be_fetched_fails_its_repository_and_exits_3(
    api: str, tmp_path: Path, capsys
) -> None:
    first = {"type": "all", "per_page": "100"}
    gone = tmp_path / "no-such-template"
    answers = {"template": "service", "_src_path": str(gone), "_commit": "v1.0.0"}
    _on(LISTING, first, _ok([_repo("NaaVRE-lost-service")]))
    contents = f"/repos/{ORG}/NaaVRE-lost-service/contents/.copier-answers.yml"
    _on(contents, {"ref": "main"}, _ok(_answers_file(answers)))
    pulls = f"/repos/{ORG}/NaaVRE-lost-service/pulls"
    _on(pulls, {"state": "open", "per_page": "100"}, _ok([]))

    code = main(["status", "--org", ORG, "--json", "-"])

    captured = capsys.readouterr()
    assert code == EXIT_TOOL
    [row] = json.loads(captured.out)["repos"]
    assert (row["state"], row["error_kind"], row["newest"]) == ("failed", "template", None)
    assert row["error"].startswith(f"cannot fetch the template {gone}")
    assert row["pull_requests"] == []
    assert "message" in captured.err and "cannot fetch the template" in captured.err  # the table says why
    _check_requests(
        [(LISTING, first), (contents, {"ref": "main"}), (pulls, {"state": "open", "per_page": "100"})]
    )


def test_a_next_page_on_another_host_is_not_followed(api: str, capsys) -> None:
    """The token goes only to the API it was given for, whatever a Link header says."""
    first = {"type": "all", "per_page": "100"}
    elsewhere = '<http://elsewhere.invalid/orgs/NaaVRE/repos?page=2>; rel="next"'
    _on(LISTING, first, _ok([_repo("flavors")], {"Link": elsewhere}))

    assert main(["status", "--org", ORG]) == EXIT_TOOL

    assert capsys.readouterr().err.splitlines()[-1] == (
        f"naavre-scaffold status: error: GitHub's next page of {LISTING} is not on {api}: "
        "http://elsewhere.invalid/orgs/NaaVRE/repos?page=2"
    )
    _check_requests([(LISTING, first)])


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--org", ORG, "."], {}, "--org: give either --org ORG or PATHs of checkouts, not both"),
        ([], {}, "path: give PATHs of checkouts, or --org ORG for a GitHub organisation"),
        (["--org=-bad"], {}, "--org: '-bad' is not a GitHub organisation name"),
        (["--org", "a_b"], {}, "--org: 'a_b' is not a GitHub organisation name"),
        (["--org", ORG], {"GITHUB_TOKEN": None}, "--org: needs a GitHub token: set GITHUB_TOKEN or GH_TOKEN"),
        (
            ["--org", ORG],
            {"NAAVRE_SCAFFOLD_GITHUB_MAX_WAIT": "soon"},
            "NAAVRE_SCAFFOLD_GITHUB_MAX_WAIT: must be a number of seconds, 0 or more",
        ),
        (["--org", ORG, "--markdown", "/no/such/folder/d.md"], {}, "--markdown: the folder /no/such/folder"),
        (["--org", ORG, "--json", "-", "--markdown", "-"], {}, "--markdown: - and --json - cannot both"),
    ],
)
def test_bad_input_is_one_line_before_any_request(
    api: str, args: list[str], env: dict[str, str | None], message: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no gh to ask for a token
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)

    assert main(["status", *args]) == EXIT_USAGE

    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith(f"naavre-scaffold status: error: {message}"), err
    assert _StandIn.requests == []


def test_local_checkouts_current_behind_drifted_and_not_adopted(
    template: Path, tmp_path: Path, capsys
) -> None:
    current = make_repo(template, tmp_path / "current", NEWEST)
    behind = make_repo(template, tmp_path / "behind", "v1.0.0")
    drifted = make_repo(template, tmp_path / "drifted", NEWEST)
    (drifted / "settings.ini").write_text("[test]\ntimeout = 99\n")
    commit_all(drifted, "A local change to a template file")
    plain = tmp_path / "plain"
    plain.mkdir()
    out, markdown = tmp_path / "status.json", tmp_path / "status.md"
    paths = [str(p) for p in (current, behind, drifted, plain)]

    code = main(["status", *paths, "--json", str(out), "--markdown", str(markdown)])

    captured = capsys.readouterr()
    assert code == EXIT_OK, captured
    report = json.loads(out.read_text())
    assert (report["org"], report["archived"]) == (None, [])
    rows = [
        (r["name"], r["version"], r["newest"], r["behind"], r["state"], r["drift"], r["pull_requests"])
        for r in report["repos"]
    ]
    assert rows == [
        (str(current), NEWEST, NEWEST, False, "current", [], None),
        (str(behind), "v1.0.0", NEWEST, True, "behind", [], None),
        (
            str(drifted),
            NEWEST,
            NEWEST,
            False,
            "drifted",
            [{"path": "settings.ini", "kind": "modified"}],
            None,
        ),
    ]
    assert report["not_adopted"] == [{"name": str(plain), "url": None}]
    assert report["counts"] == {
        "adopted": 3,
        "current": 1,
        "behind": 1,
        "drifted": 1,
        "failed": 0,
        "not_adopted": 1,
        "archived": 0,
        "pull_requests": 0,
    }
    assert [line for line in captured.err.splitlines() if line.startswith("[")] == [
        f"[1/3] {current}: current",
        f"[2/3] {behind}: behind",
        f"[3/3] {drifted}: drifted",
    ]
    assert captured.out.splitlines()[-1] == (
        "3 adopted, 1 current, 1 behind, 1 drifted, 0 failed, 1 not adopted yet"
    )
    assert f"not adopted yet: {plain}" in captured.out

    table = _markdown_table(markdown.read_text())
    assert table == [
        ["repository", "template", "version → newest", "behind", "drift"],
        [str(current), "service", f"{NEWEST} → {NEWEST}", "current", "none"],
        [str(behind), "service", f"v1.0.0 → {NEWEST}", "**behind**", "none"],
        [str(drifted), "service", f"{NEWEST} → {NEWEST}", "current", "1 file(s)"],
    ]
    assert "for local checkouts." in markdown.read_text()


def test_the_api_gives_the_same_report_without_a_terminal(template: Path, tmp_path: Path) -> None:
    repo = make_repo(template, tmp_path / "repo", "v1.0.0")
    seen: list[tuple[str, str]] = []

    report = status([repo], on_done=lambda name, state: seen.append((name, state)))

    assert [(r.name, r.version, r.newest, r.behind) for r in report.repos] == [
        (str(repo), "v1.0.0", NEWEST, True)
    ]
    assert seen == [(str(repo), "behind")]
