"""Data files shipped with stylegan-studio (the bundled model and its card)."""
