# syntax=docker/dockerfile:1
# Base image of the runtime stage of a flavor's containerized cells:
#   <registry>/<image_prefix><flavor>-cell-runtime
# A cell's image is this one with the packed conda environment in /venv and the
# cell's code in /app (see cell-build.Dockerfile and cell-test.Dockerfile).
# Cells read and write their data under /tmp/data.
#
# Build context: the repository root. CONDA_ENV_FILE is passed to every image
# the same way; this default image does not need it, an override may.
FROM ubuntu:24.04

ARG CONDA_ENV_FILE

# Owned by the image's non-root user `ubuntu` (UID 1000), who runs the cells.
RUN mkdir -p /venv /app /tmp/data && chown ubuntu:ubuntu /venv /app /tmp/data

WORKDIR /app
USER 1000:1000
