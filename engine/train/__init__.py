"""Training: options, the run (G, D, G_ema, R1, growing), its state file, datasets, augmentation, torchrun."""
