"""A tiny random DiffGMM and its model folder, shared by the inference tests."""

import torch

from diffgmm_sb.inference.model_folder import write_model_folder
from diffgmm_sb.model.diffgmm import DiffGMM
from diffgmm_sb.model.diffusion import NoiseSchedule
from diffgmm_sb.model.mixture import MixtureHead
from diffgmm_sb.model.unet import WaveUNet

# Network hyperparameters of the tiny model (every key of model_folder.network_keys("wave")).
VALUES = {
    "sample_rate": 16000,
    "num_steps": 4,
    "schedule": "cosine",
    "sigma_max": 0.05,
    "num_components": 2,
    "min_scale": 0.001,
    "sampler_steps": 2,
    "sampler_mode": "mean",
    "sampler_final_gamma": 0.0,
    "front_channels": 8,
    "front_stride": 8,
    "front_kernel": 16,
    "unet_channels": [16],
    "unet_strides": [4],
    "emb_dim": 16,
    "lstm_layers": 0,
    "head_channels": 8,
}


def tiny_model(seed=0):
    """A randomly initialised ``DiffGMM`` matching ``VALUES``."""
    torch.manual_seed(seed)
    unet = WaveUNet(
        out_channels=8,
        front_channels=8,
        channels=[16],
        strides=[4],
        emb_dim=16,
        lstm_layers=0,
    )
    return DiffGMM(unet, MixtureHead(8, 2), NoiseSchedule(4))


def tiny_model_folder(folder, seed=0):
    """Writes the tiny model as a model folder; returns ``(folder, model)``."""
    model = tiny_model(seed)
    return write_model_folder(str(folder), VALUES, model.state_dict()), model
