"""Training: the Brain, its losses and checkpoints, recipe helpers."""
