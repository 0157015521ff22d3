"""The contract floor: what the window and the engine exchange (stdlib + numpy only, imports nothing else of the project)."""
