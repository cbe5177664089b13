"""The STFT-frame network: masking head, noise-floor feature, model folders."""

import torch
from tiny_model import VALUES as TINY_WAVE

from diffgmm_sb.inference.model_folder import (
    load_model_folder,
    read_network_values,
    write_model_folder,
)
from diffgmm_sb.model.diffgmm import DiffGMM
from diffgmm_sb.model.diffusion import NoiseSchedule
from diffgmm_sb.model.spectral import MaskMixtureHead, SpectralUNet, log_posterior_snr

# The tiny waveform model's values with the STFT network in place of the front end.
VALUES = {
    **{k: v for k, v in TINY_WAVE.items() if k not in ("front_stride", "front_kernel")},
    "network": "spectral",
    "sampler_final_gamma": 0.1,
    "unet_channels": [8],
    "unet_strides": [2],
    "emb_dim": 8,
    "lstm_layers": 1,
    "n_fft": 64,
    "hop_length": 16,
}


def _spectral_model(snr_smooth_frames=1, eval_snr_smooth_frames=None):
    torch.manual_seed(0)
    unet = SpectralUNet(
        out_channels=8, n_fft=64, hop_length=16, front_channels=8, channels=[8],
        strides=[2], emb_dim=8,
    )  # fmt: skip
    head = MaskMixtureHead(
        8, num_components=2, n_fft=64, hop_length=16,
        snr_smooth_frames=snr_smooth_frames, eval_snr_smooth_frames=eval_snr_smooth_frames,
    )  # fmt: skip
    return DiffGMM(unet, head, NoiseSchedule(num_steps=4))


def _fixed_masks(head, logit):
    with torch.no_grad():
        head.proj.weight.zero_()
        head.proj.bias.fill_(logit)
        head.snr_weight.zero_()


def test_a_full_mask_gives_the_state_as_residual_and_an_empty_one_keeps_it():
    head = MaskMixtureHead(8, num_components=3, n_fft=64, hop_length=16)
    state = torch.randn(2, 777)
    features = torch.randn(2, 8, 777 // 16 + 1)
    _fixed_masks(head, 40.0)  # mask 1: all of the state is residual (noise)
    assert torch.allclose(head(features, state).mean(), state, atol=1e-5)
    _fixed_masks(head, -40.0)  # mask 0: the state is kept as speech
    assert head(features, state).mean().abs().max() < 1e-6


def test_noise_floor_feature_separates_bursts_from_stationary_noise():
    torch.manual_seed(0)
    power = torch.distributions.Exponential(1.0).sample((1, 8, 300))
    power[:, :, 140:160] *= 1000.0  # a loud burst over the stationary noise
    snr = log_posterior_snr(power)
    assert snr[:, :, 145:155].mean() > 6.0
    assert snr[:, :, :100].mean() < 3.0


def test_a_smoothed_numerator_calls_fewer_noise_peaks_speech_and_keeps_bursts():
    torch.manual_seed(0)
    power = torch.distributions.Exponential(1.0).sample((1, 64, 300))
    power[:, :, 140:160] *= 1000.0
    raw, smoothed = log_posterior_snr(power), log_posterior_snr(power, numerator_frames=3)
    noise = (slice(None), slice(None), slice(0, 100))
    # The feature of stationary noise spreads less, and its peaks are rarer.
    assert smoothed[noise].std() < 0.7 * raw[noise].std()
    assert (smoothed[noise] > 4.0).float().mean() < 0.5 * (raw[noise] > 4.0).float().mean()
    assert smoothed[:, :, 145:155].mean() > 6.0
    assert smoothed.shape == raw.shape


def test_the_head_reads_xi_smoothed_as_configured_for_training_and_evaluation():
    model = _spectral_model(snr_smooth_frames=1, eval_snr_smooth_frames=7)
    x = torch.randn(1, 2000)
    assert model.head.numerator_frames() == 1
    model.eval()
    assert model.head.numerator_frames() == 7
    smoothed = model.enhance(x)
    model.head.eval_snr_smooth_frames = None  # evaluation as in training
    assert model.head.numerator_frames() == 1
    assert not torch.allclose(model.enhance(x), smoothed)


def test_snr_smooth_frames_round_trip_and_old_folders_read_as_raw_xi(tmp_path):
    model = _spectral_model(snr_smooth_frames=3, eval_snr_smooth_frames=7).eval()
    values = {**VALUES, "snr_smooth_frames": 3, "eval_snr_smooth_frames": 7}
    folder = write_model_folder(str(tmp_path / "m"), values, model.state_dict())
    _, modules = load_model_folder(folder)
    loaded = modules["diffgmm"].eval()
    assert (loaded.head.snr_smooth_frames, loaded.head.eval_snr_smooth_frames) == (3, 7)
    x = torch.randn(1, 2000)
    assert torch.allclose(loaded.enhance(x), model.enhance(x), atol=1e-6)
    path = tmp_path / "hyperparams.yaml"
    path.write_text("".join(f"{key}: {value}\n" for key, value in VALUES.items()))
    read = read_network_values(str(path))
    assert (read["snr_smooth_frames"], read["eval_snr_smooth_frames"]) == (1, None)


def test_spectral_model_folder_round_trip(tmp_path):
    model = _spectral_model().eval()
    folder = write_model_folder(str(tmp_path / "m"), VALUES, model.state_dict())
    hparams, modules = load_model_folder(folder)
    assert isinstance(modules["diffgmm"].unet, SpectralUNet)
    noisy = torch.randn(1, 2000)
    expected = model.enhance(noisy, steps=2)
    assert torch.allclose(modules["diffgmm"].eval().enhance(noisy, steps=2), expected)


def test_a_training_run_with_n_fft_is_read_as_spectral(tmp_path):
    run = {key: value for key, value in VALUES.items() if key != "network"}
    path = tmp_path / "hyperparams.yaml"
    path.write_text("".join(f"{key}: {value}\n" for key, value in run.items()))
    assert read_network_values(str(path))["network"] == "spectral"


def test_a_training_run_holds_its_network_values_under_model(tmp_path):
    """The run's hyperparams.yaml has the included network file under ``model``."""
    network = {k: v for k, v in VALUES.items() if k not in ("network", "sample_rate")}
    path = tmp_path / "hyperparams.yaml"
    path.write_text(
        f"sample_rate: {VALUES['sample_rate']}\nmodel:\n"
        + "".join(f"    {key}: {value}\n" for key, value in network.items())
        + "    diffgmm: !new:diffgmm_sb.model.DiffGMM\n"
    )
    read = read_network_values(str(path))
    assert read["network"] == "spectral"
    assert {k: read[k] for k in network} == network


def test_mixture_parameters_stay_float32_under_bfloat16_autocast():
    """SpeechBrain's --precision=bf16: the likelihood must not see bfloat16 masks or scales."""
    torch.manual_seed(0)
    head = MaskMixtureHead(8, num_components=2, n_fft=64, hop_length=16)
    features, state = torch.randn(2, 8, 11), torch.randn(2, 160)
    residual = 0.3 * torch.randn(2, 160)
    reference = head(features, state).log_prob(residual)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixture = head(features, state)
        log_prob = mixture.log_prob(residual)
    assert {mixture.logits.dtype, mixture.means.dtype, mixture.log_scales.dtype} == {
        torch.float32
    }
    torch.testing.assert_close(log_prob, reference, atol=0.1, rtol=0.02)
