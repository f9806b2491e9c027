"""Create a repository from a template, and say what to do next."""
