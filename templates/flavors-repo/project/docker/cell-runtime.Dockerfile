# syntax=docker/dockerfile:1
# Base image of the runtime stage of a flavor's containerized cells:
#   <registry>/<image_prefix><flavor>-cell-runtime
# NaaVRE-containerizer-service builds each cell's image FROM it: it copies the
# packed conda environment to /venv, sets WORKDIR /app and copies the cell's
# code there (scripts/cell_test.py writes the same Dockerfile for CI). Cells read
# and write their data under /tmp/data.
#
# The cells run as root, as in NaaVRE's own runtime image, on purpose: Argo
# (NaaVRE-workflow-service's argo_workflowSpec.j2) mounts a fresh volume on
# /tmp/data with no securityContext and no fsGroup, so the volume's owner is
# whatever the storage provisioner makes (root), and the mount hides whatever
# this image puts at /tmp/data. A non-root user could not write the data there.
#
# Build context: the repository root. CONDA_ENV_FILE is passed to every image
# the same way; this default image does not need it, an override may.
FROM ubuntu:24.04

ARG CONDA_ENV_FILE

# For a cell run without Argo's volume (e.g. docker run): the same path exists.
RUN mkdir -p /tmp/data
