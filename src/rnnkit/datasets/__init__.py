"""rnnkit.datasets."""
