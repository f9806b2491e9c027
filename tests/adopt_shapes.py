"""Hand-written repositories shaped like the real NaaVRE ones, for ``adopt``.

The shapes are facts read from the public repositories with the search tool's
look-ups (file lists and the lines ``adopt`` reads), the contents written here:

- NaaVRE/NaaVRE-containerizer-service (files at 0ae2299 and later): ``app/`` with
  ``main.py``, ``settings.py`` beside an ``app/settings/`` package, ``models/``,
  ``services/``; ``docker/Dockerfile`` builds a conda environment from
  ``environment.yaml`` (Python 3.11) and runs ``python:3.11-slim`` with uvicorn (no
  ``--port``); ``helm/naavre-containerizer-service/`` from ``helm create`` with
  ``service.port: 8000`` and ``image.repository: ghcr.io/naavre/naavre-containerizer-service``;
  ``make.yml`` calls ``helm-chart-release.yml`` with ``oci_repo: ghcr.io/naavre/charts``.
- NaaVRE/NaaVRE-catalogue-jupyterlab: ``package.json`` named ``@naavre/catalogue-jupyterlab``
  with the LifeWatch author and ``jupyterlab.schemaDir``; ``pyproject.toml`` named
  ``NaaVRE_catalogue_jupyterlab``; the jupyterlab/extension-template answers file
  (v4.5.1, frontend, has_settings); ``schema/plugin.json`` with ``virtualLab`` and
  ``catalogueServiceUrl``; ``src/``, ``style/``, ``dev/``, jupyter-releaser workflows.
"""

from __future__ import annotations

import json
from pathlib import Path

from naavre_scaffold.git import git, init_and_commit

AUTHOR = "LifeWatch ERIC VLIC & QCDIS team at University of Amsterdam"


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _repository(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    _write(root, files)
    init_and_commit(root, "Hand-written history")
    git(root, "remote", "add", "origin", f"https://github.com/NaaVRE/{root.name}.git")
    return root


def containerizer_service(parent: Path) -> Path:
    """A repository shaped like NaaVRE-containerizer-service."""
    chart = "helm/naavre-containerizer-service"
    return _repository(
        parent / "NaaVRE-containerizer-service",
        {
            "README.md": "# NaaVRE-containerizer-service\n\nContainerizes notebook cells.\n",
            "LICENSE": "Apache License\nVersion 2.0, January 2004\n",
            ".gitignore": "__pycache__/\n.env\n",
            "environment.yaml": "name: venv\nchannels:\n  - conda-forge\ndependencies:\n  - python=3.11\n"
            "  - r-base\n  - pip\n  - pip:\n      - -r requirements.txt\n",
            "requirements.txt": "fastapi[standard]==0.115.0\npydantic-settings==2.5.2\n",
            "app/__init__.py": "",
            "app/main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.post('/containerize')\n"
            "def containerize() -> dict:\n    return {'built': True}\n",
            "app/settings.py": "ROOT_PATH = '/NaaVRE-containerizer-service'\n",
            "app/settings/service_settings.py": "class Settings:\n    config_file = '/configuration.json'\n",
            "app/models/cell.py": "class Cell:\n    title: str\n",
            "app/services/containerizers/containerizer.py": "def build(cell):\n    return cell\n",
            "app/tests/conftest.py": "import os\n\nos.environ.setdefault('CONFIG_FILE_URL', 'tests.json')\n",
            "docker/Dockerfile": "FROM condaforge/mambaforge:24.9.0-0 AS build\nCOPY environment.yaml .\n"
            "COPY requirements.txt .\nRUN mamba env update --name venv -f environment.yaml\n\n"
            "FROM python:3.11-slim AS runtime\nCOPY --from=build /opt/conda/envs/venv /venv\n"
            "ENV PATH=/venv/bin:$PATH\nWORKDIR /code\nCOPY ./app /code/app\n"
            'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]\n',
            f"{chart}/Chart.yaml": "apiVersion: v2\nname: naavre-containerizer-service\n"
            "description: A Helm chart for Kubernetes\ntype: application\nversion: 0.0.0-dev\n"
            "appVersion: 0.0.0-dev\n",
            f"{chart}/values.yaml": "replicaCount: 1\nimage:\n"
            "  repository: ghcr.io/naavre/naavre-containerizer-service\n"
            '  pullPolicy: IfNotPresent\n  tag: ""\nservice:\n  type: ClusterIP\n  port: 8000\n'
            "conf:\n  rootPath: /\n  virtual_labs_configuration:\n"
            "    rawJson: '{\"vl_configurations\": []}'\n"
            'env:\n  DEBUG: "false"\n  CONFIG_FILE_URL: /configuration.json\n',
            f"{chart}/values-example.yaml": "conf:\n  rootPath: /naavre-containerizer-service\n",
            f"{chart}/templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\n"
            "metadata:\n  name: {{ .Release.Name }}\n",
            ".github/workflows/make.yml": "name: make\non:\n  release:\n    types: [published]\n"
            "jobs:\n  helm:\n    uses: ./.github/workflows/helm-chart-release.yml\n    with:\n"
            "      oci_repo: ghcr.io/naavre/charts\n"
            "      version: ${{ github.ref_name }}\n      push: true\n",
            ".github/workflows/helm-chart-release.yml": "name: Build helm\non:\n  workflow_call:\n"
            "    inputs:\n      oci_repo:\n        type: string\n        required: true\n"
            "jobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n"
            "      - run: helm package helm/naavre-containerizer-service -d .charts-packages/\n"
            '      - run: helm push .charts-packages/*.tgz "oci://${{ inputs.oci_repo }}"\n',
            ".github/dependabot.yml": "version: 2\nupdates:\n  - package-ecosystem: github-actions\n"
            "    directory: /\n    schedule:\n      interval: weekly\n",
        },
    )


def catalogue_jupyterlab(parent: Path) -> Path:
    """A repository shaped like NaaVRE-catalogue-jupyterlab."""
    package = {
        "name": "@naavre/catalogue-jupyterlab",
        "version": "0.2.0",
        "description": "NaaVRE assets catalogue frontend on Jupyter Lab",
        "license": "Apache-2.0",
        "author": {"name": AUTHOR, "email": "maintainer@example.org"},
        "main": "lib/index.js",
        "scripts": {"build": "jlpm build:lib && jlpm build:labextension:dev"},
        "dependencies": {"@jupyterlab/application": "^4.0.0", "@naavre/communicator-jupyterlab": "^0.3.2"},
        "jupyterlab": {
            "extension": True,
            "outputDir": "NaaVRE_catalogue_jupyterlab/labextension",
            "schemaDir": "schema",
        },
    }
    schema = {
        "title": "NaaVRE catalogue",
        "type": "object",
        "properties": {
            "virtualLab": {"type": "string", "default": ""},
            "catalogueServiceUrl": {"type": "string", "default": "/NaaVRE-catalogue-service"},
        },
        "additionalProperties": False,
    }
    upstream = (
        "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n_commit: v4.5.1\n"
        "_src_path: https://github.com/jupyterlab/extension-template\n"
        f"author_email: maintainer@example.org\nauthor_name: {AUTHOR}\nhas_binder: false\n"
        "has_settings: true\nkind: frontend\nlabextension_name: '@naavre/catalogue-jupyterlab'\n"
        "python_name: NaaVRE_catalogue_jupyterlab\nrepository: https://github.com/NaaVRE/NaaVRE-catalogue-jupyterlab\n"
        "test: true\n"
    )
    return _repository(
        parent / "NaaVRE-catalogue-jupyterlab",
        {
            "README.md": "# NaaVRE-catalogue-jupyterlab\n\nThe assets catalogue.\n",
            "CHANGELOG.md": "# Changelog\n\n<!-- <START NEW CHANGELOG ENTRY> -->\n",
            "LICENSE": "Apache License\nVersion 2.0, January 2004\n",
            ".copier-answers.yml": upstream,
            "package.json": json.dumps(package, indent=4) + "\n",
            "pyproject.toml": '[project]\nname = "NaaVRE_catalogue_jupyterlab"\nrequires-python = ">=3.10"\n',
            "tsconfig.json": '{"compilerOptions": {"jsx": "react"}, "include": ["src/**/*"]}\n',
            "schema/plugin.json": json.dumps(schema, indent=2) + "\n",
            "src/index.ts": "import { JupyterFrontEndPlugin } from '@jupyterlab/application';\n"
            "const plugin: JupyterFrontEndPlugin<void> = { id: '@naavre/catalogue-jupyterlab:plugin',"
            " autoStart: true, activate: () => {} };\nexport default plugin;\n",
            "src/widget.tsx": "export const Catalogue = () => null;\n",
            "style/index.css": "@import url('base.css');\n",
            "style/base.css": ".naavre-catalogue { display: flex; }\n",
            "NaaVRE_catalogue_jupyterlab/__init__.py": "__all__ = []\n",
            "dev/docker-compose.yaml": "services:\n  catalogue:\n"
            "    image: ghcr.io/naavre/naavre-catalogue-service:v0.6.9\n",
            ".github/workflows/build.yml": "name: Build\non: [push]\njobs:\n  build:\n"
            "    runs-on: ubuntu-latest\n"
            "    steps:\n      - run: jlpm build\n",
            ".github/workflows/check-release.yml": "name: Check Release\non: [push]\njobs:\n  check:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - run: echo check\n",
        },
    )


def flavors(parent: Path) -> Path:
    """A repository shaped like NaaVRE/flavors: its make.yaml passes ``image_repo:
    'ghcr.io/naavre/flavors'`` to make-flavor.yaml, which names ``naavre-fl-<flavor>-...``."""
    return _repository(
        parent / "flavors",
        {
            "README.md": "# NaaVRE flavors\n",
            "docker/jupyter.Dockerfile": "FROM quay.io/jupyter/minimal-notebook:lab-4.3.6\n",
            "flavors/vanilla/flavor_config.yaml": "flavor_name: vanilla\nbuild_jupyter: true\n"
            "free_disk_space: false\n",
            "flavors/vanilla/environment.yaml": "name: venv\ndependencies:\n  - python=3.12\n",
            ".github/workflows/make.yaml": "name: Make\non:\n  release:\n    types: [published]\njobs:\n"
            "  flavors:\n    uses: ./.github/workflows/make-flavor.yaml\n    with:\n"
            "      flavor_name: ${{ matrix.flavor_name }}\n      image_repo: 'ghcr.io/naavre/flavors'\n",
            ".github/workflows/make-flavor.yaml": "name: Make flavor\non:\n  workflow_call:\njobs:\n"
            "  build-jupyter:\n    uses: ./.github/workflows/build-image.yaml\n    with:\n"
            "      dockerfile: jupyter.Dockerfile\n"
            "      image_name: naavre-fl-${{ inputs.flavor_name }}-jupyter\n",
        },
    )
