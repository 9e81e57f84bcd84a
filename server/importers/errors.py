"""What importers raise: a message for the person who chose the file."""


class UnreadableFile(Exception):
    """The file cannot be read as a table; ``str(exc)`` says why in plain words."""


class ReadAgain(Exception):
    """A reader found part-way that the file must be read another way (an .xlsx sheet whose
    rows are stored out of order cannot be streamed). The rows it gave are void; asking the
    reader for the rows again reads them the other way."""


class NotATable(UnreadableFile):
    """The file is something else (an image, a program, an archive…): refused on upload."""
