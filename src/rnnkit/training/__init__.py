"""rnnkit.training."""
