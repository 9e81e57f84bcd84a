"""Changing a dataset after import: cleaning steps with their history and undo
(:mod:`.steps`), and recipes that replay saved steps on next month's file (:mod:`.recipes`)."""
