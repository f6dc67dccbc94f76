"""The one error type of a user's mistake, shared by paddleinfo and the scripts.

It imports nothing (no Paddle), so that a script can catch it before Paddle is loaded.
"""


class UsageError(Exception):
    """A mistake in what the user asked for; its message is shown as one line."""
