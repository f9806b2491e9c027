"""Many repositories at once: `update` and `check`, and what they share."""
