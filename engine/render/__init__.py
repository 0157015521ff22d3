"""Exploration and rendering: w-space maths and synthesis, the renderers (live and still), figures, projection, video."""
