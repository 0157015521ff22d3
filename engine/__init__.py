"""The stylegan-studio engine: StyleGAN v1 networks, exploration, training (torch only, never Qt)."""
