# syntax=docker/dockerfile:1
# Base image of the build stage of a flavor's containerized cells:
#   <registry>/<image_prefix><flavor>-cell-build
# NaaVRE-containerizer-service builds each cell FROM it with its own Dockerfile
# (scripts/cell_test.py writes the same one for CI): as the image's user it copies
# the cell's environment.yaml into the working directory and installs it into the
# conda environment `venv`; then, as root, it packs `venv` with conda-pack and
# unpacks it with `mkdir /venv` (no -p), and copies /venv into the runtime stage.
# So this image must leave /venv, /tmp/env.tar and ./environment.yaml to it, and
# keep the base image's user (mambauser) and working directory.
#
# Build context: the repository root, e.g.
#   docker build . -f docker/cell-build.Dockerfile \
#     --build-arg CONDA_ENV_FILE=flavors/vanilla/environment.yaml
# A flavor may replace this file with flavors/<flavor>/cell-build.Dockerfile;
# it must keep ARG CONDA_ENV_FILE, the environment `venv` and conda-pack, and
# must not create any of the paths above.
FROM mambaorg/micromamba:2.0.7

ARG CONDA_ENV_FILE

# The flavor's environment is created as `venv` whatever its `name:` says: the
# containerizer refers to it by that name. The file is mounted, not copied, so
# that nothing is left where the cell's own environment.yaml goes.
RUN --mount=type=bind,source=${CONDA_ENV_FILE},target=/tmp/flavor-environment.yaml \
    micromamba install --yes --name base --channel conda-forge "conda-pack>=0.8" \
    && micromamba create --yes --name venv --file /tmp/flavor-environment.yaml \
    && micromamba clean --all --force-pkgs-dirs --yes
