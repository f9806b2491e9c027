"""The JupyterLab server the UI tests run against (started by playwright.config.js).

Galata's settings: no token or password, a throwaway root folder, and the app
exposed as `window.jupyterapp`. For tests only: it removes every protection.
"""

from jupyterlab.galata import configure_jupyter_server

c = get_config()  # noqa: F821 (defined by Jupyter when it loads this file)
configure_jupyter_server(c)
# CI containers and many dev machines run as root; the server refuses to start otherwise.
c.ServerApp.allow_root = True
