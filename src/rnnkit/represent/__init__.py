"""rnnkit.represent."""
