"""The text additions of ``register``: each file's own style kept, and nothing else changed."""

from __future__ import annotations

import pytest

from naavre_scaffold.registration.edits import add_dependency, add_list_item, add_top_level_block
from naavre_scaffold.registration.yaml_text import LayoutError

NEW = {
    "name": "naavre-b-service",
    "version": "0.1.0",
    "repository": "oci://y/charts",
    "condition": "b.enabled",
}


@pytest.mark.parametrize(
    ("chart", "added"),
    [
        # Indented list, double quotes, a comment after the list: kept where it is.
        (
            'dependencies:\n  - name: "a"\n    version: "v1"\n    repository: "oci://x"\n'
            "    condition: a.enabled\n# The end.\n",
            '  - name: "naavre-b-service"\n    version: "0.1.0"\n    repository: "oci://y/charts"\n'
            "    condition: b.enabled\n",
        ),
        # A list flush with its key, single quotes, a document marker, no final newline.
        (
            "---\ndependencies:\n- name: a\n  version: '1'\n  repository: oci://x\n  condition: a.enabled",
            "- name: naavre-b-service\n  version: '0.1.0'\n  repository: oci://y/charts\n"
            "  condition: b.enabled\n",
        ),
    ],
)
def test_a_dependency_is_written_like_the_entries_before_it(chart: str, added: str) -> None:
    result = add_dependency(chart, dict(NEW))
    before = chart if chart.endswith("\n") else chart + "\n"
    assert result.replace(added, "", 1) == before
    comment = "# The end.\n"
    assert not before.endswith(comment) or result.endswith(added + comment)


def test_a_block_goes_after_its_kind_with_a_blank_line_and_comments_stay() -> None:
    values = (
        'nameOverride: ""\n\n# Services\nnaavre-a-service:\n    enabled: true\n\n'
        "# Shared values\nglobal:\n    domain: x\n"
    )
    result = add_top_level_block(values, "naavre-b-service", {"enabled": True}, "naavre-", "v.yaml")
    assert result == values.replace(
        "    enabled: true\n\n# Shared",
        "    enabled: true\n\nnaavre-b-service:\n    enabled: true\n\n# Shared",
    )  # written with the file's indentation step, 4 here


def test_a_list_item_goes_after_the_last_of_its_kind() -> None:
    values = (
        "binderhub:\n  builder:\n    naavre_requirements:\n      - NaaVRE-a-jupyterlab==1\n      - voila\n"
    )
    path = ("binderhub", "builder", "naavre_requirements")
    result = add_list_item(values, path, "NaaVRE-b-jupyterlab==2", "naavre-", "values.yaml")
    assert result == values.replace("      - voila", "      - NaaVRE-b-jupyterlab==2\n      - voila")


def test_a_layout_it_cannot_read_is_refused_not_guessed() -> None:
    with pytest.raises(LayoutError, match="nothing indented below it"):
        add_dependency("dependencies: [{name: a, version: '1'}]\n", dict(NEW))
    with pytest.raises(LayoutError, match="no key dependencies"):
        add_dependency("apiVersion: v2\n", dict(NEW))
