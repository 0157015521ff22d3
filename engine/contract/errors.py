"""Errors that reach the user as one plain line: one base, one list of what is expected."""


class StudioError(Exception):
    """Base of every error the engine and the CLI report as one line, without a traceback."""


class UserError(StudioError):
    """A user mistake or an unusable input."""


# What the engine's ErrorEvent and the CLI's exit 1 report as one line; anything else is a bug (traceback logged).
EXPECTED = (StudioError, OSError, ValueError)
