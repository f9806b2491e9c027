# syntax=docker/dockerfile:1
# Base image of the build stage of a flavor's containerized cells:
#   <registry>/<image_prefix><flavor>-cell-build
# NaaVRE-containerizer-service builds each cell FROM it: it installs the cell's
# own packages into the conda environment `venv`, packs that environment with
# conda-pack into /venv and copies /venv into the runtime stage (the flavor's
# cell-runtime image). cell-test.Dockerfile does the same in CI.
#
# Build context: the repository root, e.g.
#   docker build . -f docker/cell-build.Dockerfile \
#     --build-arg CONDA_ENV_FILE=flavors/vanilla/environment.yaml
# A flavor may replace this file with flavors/<flavor>/cell-build.Dockerfile;
# it must keep ARG CONDA_ENV_FILE, the environment `venv` and conda-pack.
FROM mambaorg/micromamba:2.0.7

ARG CONDA_ENV_FILE

COPY --chown=$MAMBA_USER:$MAMBA_USER ${CONDA_ENV_FILE} /tmp/environment.yaml

# The flavor's environment is created as `venv` whatever its `name:` says: the
# containerizer refers to it by that name.
RUN micromamba install --yes --name base --channel conda-forge "conda-pack>=0.8" \
    && micromamba create --yes --name venv --file /tmp/environment.yaml \
    && micromamba clean --all --force-pkgs-dirs --yes

# /venv belongs to the image's non-root user (mambauser, UID 57439), so that a
# cell build can unpack the environment there without switching to root.
USER 0
RUN mkdir -p /venv && chown "$MAMBA_USER:$MAMBA_USER" /venv
USER 57439:57439
