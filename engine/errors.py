"""Errors that reach the user as one plain line."""


class UserError(Exception):
    """A user mistake or an unusable input, reported without a traceback."""
