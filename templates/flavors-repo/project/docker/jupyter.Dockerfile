# syntax=docker/dockerfile:1
# A flavor's Jupyter image, which JupyterHub starts for the users of a virtual lab:
#   <registry>/<image_prefix><flavor>-jupyter
# JupyterLab with the pinned NaaVRE extensions of docker/jupyter.requirements.txt,
# and the flavor's conda environment as the notebook kernels (Python and/or R).
#
# Build context: the repository root, e.g.
#   docker build . -f docker/jupyter.Dockerfile \
#     --build-arg CONDA_ENV_FILE=flavors/vanilla/environment.yaml
# A flavor may replace this file with flavors/<flavor>/jupyter.Dockerfile; it
# must keep ARG CONDA_ENV_FILE, the requirements file and /tmp/data.
FROM quay.io/jupyter/minimal-notebook:lab-4.3.6

ARG CONDA_ENV_FILE

COPY docker/jupyter.requirements.txt /tmp/jupyter.requirements.txt
COPY ${CONDA_ENV_FILE} /tmp/environment.yaml

# The base image runs as its non-root user (jovyan), who owns the conda install.
# JupyterLab's news and update announcements are disabled, as in NaaVRE's own
# images: users of a virtual lab cannot act on them. It is done in page_config.json
# (`labextension disable`, at the sys-prefix level) because NaaVRE-helm mounts its
# own overrides.json over the lab settings, which would drop a setting put there.
# nb_conda_kernels offers the kernels of the flavor's environment; the filter
# hides the base environment, which only runs JupyterLab itself. Cells read and
# write their data under /tmp/data, as in the cell images.
RUN pip install --no-cache-dir --requirement /tmp/jupyter.requirements.txt \
    && jupyter labextension disable --level=sys_prefix "@jupyterlab/apputils-extension:announcements" \
    && mamba install --yes --name base nb_conda_kernels \
    && mamba env create --yes --file /tmp/environment.yaml \
    && mamba clean --all --force-pkgs-dirs --yes \
    && mkdir -p "${CONDA_DIR}/etc/jupyter/jupyter_server_config.d" /tmp/data \
    && printf '%s\n' \
        '{"ServerApp": {"kernel_spec_manager_class": "nb_conda_kernels.CondaKernelSpecManager"},' \
        ' "CondaKernelSpecManager": {"env_filter": "^/opt/conda$", "name_format": "{language} ({environment})"}}' \
        > "${CONDA_DIR}/etc/jupyter/jupyter_server_config.d/naavre_conda_kernels.json" \
    && fix-permissions "${CONDA_DIR}" "/home/${NB_USER}"
