"""The errors of account and role changes; each message is a sentence for the person at the
screen. Apart from accounts.py so that the grant rules (grants.py) can raise them too."""

from __future__ import annotations


class AccountError(ValueError):
    """A change that cannot be made; the message says why, for a person."""


class WrongCurrentPassword(AccountError):
    pass


class Refused(AccountError):
    """A change that would give, or reach, more than its author holds (audited as denied)."""
