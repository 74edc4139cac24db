"""The one exception type the CLI turns into a readable message (never a traceback)."""


class KitError(Exception):
    """A problem the user can fix: the message names what is wrong and how to fix it."""
