"""Placeholder for the saved-views migration, which its own branch brings (numbers must have no
gaps, and row rules are m0012): when the two branches merge, that branch's file replaces this."""


def apply(db) -> None:
    """Nothing here: the saved-views branch's m0011 creates its tables."""
