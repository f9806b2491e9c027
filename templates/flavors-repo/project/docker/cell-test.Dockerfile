# syntax=docker/dockerfile:1
# For CI only, never pushed: a containerized cell without cell code, built the
# way NaaVRE-containerizer-service builds a cell from the flavor's two base
# images. tests/tests.sh runs in it, so a flavor whose cells would not build or
# not start fails before its images are released.
#
#   docker build . -f docker/cell-test.Dockerfile \
#     --build-arg BUILD_IMAGE=<...>-cell-build:<tag> \
#     --build-arg RUNTIME_IMAGE=<...>-cell-runtime:<tag>
ARG BUILD_IMAGE
ARG RUNTIME_IMAGE

FROM ${BUILD_IMAGE} AS build

# Pack the environment `venv` into /venv and make its paths relative to /venv.
RUN conda-pack --prefix "${MAMBA_ROOT_PREFIX}/envs/venv" --output /tmp/venv.tar \
    && tar -xf /tmp/venv.tar -C /venv \
    && rm /tmp/venv.tar \
    && /venv/bin/conda-unpack

FROM ${RUNTIME_IMAGE}

COPY --from=build /venv /venv
WORKDIR /app
