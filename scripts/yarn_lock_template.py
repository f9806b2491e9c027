"""Turn a real yarn.lock of a jupyterlab render into templates/jupyterlab/project/yarn.lock.jinja.

Only the render's own (workspace) entry depends on the answers: its key holds the npm
name. Yarn writes the entries sorted by key (plain string order) and `--immutable`
compares text, so the template puts that entry between the two keys it sorts between.
Regenerate after changing the dependencies in package.json.jinja: render the template,
run `jlpm install` in the render (CI unset), then

    python scripts/yarn_lock_template.py RENDER/yarn.lock @naavre/NAME-jupyterlab \\
        templates/jupyterlab/project/yarn.lock.jinja

`naavre-scaffold verify` on any render then proves the lock in sync (`jlpm install --immutable`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path


def _key(block: str) -> str:
    line = block.split("\n", 1)[0].rstrip(":")
    return json.loads(line) if line.startswith('"') else line


def main(lock: Path, npm_name: str, out: Path) -> None:
    text = lock.read_text()
    assert text.endswith("\n") and not re.search(r"\{[{%#]", text)
    blocks = text[:-1].split("\n\n")
    start = next(i for i, b in enumerate(blocks) if b.startswith("__metadata:")) + 1
    own_key = f"{npm_name}@workspace:."
    own = next(b for b in blocks[start:] if _key(b) == own_key)
    entries = [b for b in blocks[start:] if b is not own]
    keys = [_key(b) for b in entries]
    assert keys == sorted(keys) and own.count(npm_name) == 2
    own = own.replace(npm_name, "{{ jupyterlab_npm_name }}")
    header = '{% set own_key = jupyterlab_npm_name ~ "@workspace:." %}'
    out_text = header + "{% macro own() %}" + own + "{% endmacro %}"
    out_text += "\n\n".join(blocks[:start])
    previous = ""
    for key, block in zip(keys, entries, strict=True):
        condition = f"{json.dumps(previous)} < own_key and own_key < {json.dumps(key)}"
        out_text += "\n\n{% if " + condition + " %}{{ own() }}\n\n{% endif %}" + block
        previous = key
    out_text += "{% if " + json.dumps(previous) + " < own_key %}\n\n{{ own() }}{% endif %}\n"
    out.write_text(out_text)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
