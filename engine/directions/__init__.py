"""Semantic directions in W: one file format, PCA (GANSpace), closed-form factorisation (SeFa), attributes."""
