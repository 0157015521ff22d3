"""Dock panes of the studio window; each emits intents and never sees the engine."""
