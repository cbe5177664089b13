"""Inference: the Pretrained interface, model folders, the enhance CLI, plots."""

from diffgmm_sb.inference.interface import DiffGMMEnhancement

__all__ = ["DiffGMMEnhancement"]
