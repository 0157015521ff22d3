"""Exploration and rendering: latent specs, w-space maths and synthesis, renderers, stills, figures, video."""
