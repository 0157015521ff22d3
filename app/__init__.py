"""The stylegan-studio desktop app (Qt only, never torch)."""
