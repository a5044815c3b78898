"""Training: run configuration, checkpoints, the training loop and its schedules."""
