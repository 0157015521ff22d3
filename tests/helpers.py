"""Small shared helpers for engine tests."""
import torch

from stylegan_studio.engine.contract.modelconfig import ModelConfig
from stylegan_studio.engine.nets.networks import Generator


def tiny_generator(res: int = 16, seed: int = 0, noisy: bool = True) -> Generator:
    """A tiny random G; `noisy` gives the noise strengths non-zero values so noise matters."""
    torch.manual_seed(seed)
    G = Generator(ModelConfig.small(resolution=res, channels=16, z_dim=16)).eval().requires_grad_(False)
    if noisy:
        for block in G.synthesis.blocks:
            block.epi0.noise_strength.normal_(0, 1)
            block.epi1.noise_strength.normal_(0, 1)
        G.w_avg.normal_(0, 0.5)
    return G
