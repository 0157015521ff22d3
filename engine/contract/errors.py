"""Errors that reach the user as one plain line: one base, one list of what is expected."""


class StudioError(Exception):
    """Base of every error the engine and the CLI report as one line, without a traceback."""


class UserError(StudioError):
    """A user mistake or an unusable input."""


# What the engine's ErrorEvent and the CLI's exit 1 report as one line; anything else is a bug (traceback logged).
# Only the studio's own errors: a file that cannot be read or written is wrapped where it is opened (ReadError,
# WriteError), so a stray OSError or ValueError from a bug still shows its traceback.
EXPECTED = (StudioError,)
