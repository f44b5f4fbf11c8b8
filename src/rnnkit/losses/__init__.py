"""rnnkit.losses."""
