"""rnnkit.web."""
