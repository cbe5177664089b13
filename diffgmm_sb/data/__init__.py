"""Data: audio I/O, manifests, mixing and augmentation, the starter corpus."""
