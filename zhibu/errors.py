"""The one exception every package raises for input the user must fix (CLI exit status 2)."""


class BadInput(Exception):
    """Carries a message fit to show the user (Chinese for chat users; English is fine for CLI flags)."""
