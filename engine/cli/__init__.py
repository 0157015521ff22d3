"""The headless command line: one module per group of commands, all on the engine's code."""
