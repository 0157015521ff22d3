"""Quality measurements of a generator (FID against held-out images)."""
