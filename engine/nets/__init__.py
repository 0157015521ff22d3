"""The StyleGAN v1 networks: model config, layers, mapping, synthesis, discriminator."""
