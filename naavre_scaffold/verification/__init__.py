"""The render checks of `naavre-scaffold verify`, one module per check kind."""
