"""What importers raise: a message for the person who chose the file."""


class UnreadableFile(Exception):
    """The file cannot be read as a table; ``str(exc)`` says why in plain words."""


class NotATable(UnreadableFile):
    """The file is something else (an image, a program, an archive…): refused on upload."""
