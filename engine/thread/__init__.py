"""The engine thread: the Engine, its command handlers, long jobs and the loaded model."""
