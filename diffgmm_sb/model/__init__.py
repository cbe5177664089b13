"""The DiffGMM model: networks, mixture heads and the diffusion process."""

from diffgmm_sb.model.diffgmm import DiffGMM

__all__ = ["DiffGMM"]
