"""Forms of the import flow. Column types are read per column by the route (their number
varies with the file); everything else is a field here."""

import codecs

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ...importers import FORMATS
from ...importers.delimited import DELIMITERS
from ..loading.jobs import MAX_NAME

# The encodings offered on the preview page, grouped by script or region. The values are
# Python's canonical codec names, as the importers resolve them, so an encoding detected under
# another of its names still selects its option.
_ENCODING_GROUPS = {
    "Unicode": [
        ("utf-8", "UTF-8"),
        ("utf-8-sig", "UTF-8 with BOM"),
        ("utf-16", "UTF-16 with BOM"),
        ("utf-16-le", "UTF-16 LE"),
        ("utf-16-be", "UTF-16 BE"),
        ("utf-32", "UTF-32 with BOM"),
        ("utf-32-le", "UTF-32 LE"),
        ("utf-32-be", "UTF-32 BE"),
    ],
    "Western European": [
        ("cp1252", "Windows Western (Windows-1252)"),
        ("latin-1", "ISO 8859-1 (Latin-1)"),
        ("iso8859-15", "ISO 8859-15 (Latin-9)"),
        ("iso8859-3", "ISO 8859-3 (South European)"),
        ("iso8859-10", "ISO 8859-10 (Nordic)"),
        ("iso8859-14", "ISO 8859-14 (Celtic)"),
        ("mac-roman", "Mac Roman"),
        ("cp850", "DOS Western (cp850)"),
    ],
    "Central European": [
        ("cp1250", "Windows Central European (Windows-1250)"),
        ("iso8859-2", "ISO 8859-2 (Latin-2)"),
        ("iso8859-16", "ISO 8859-16 (South-Eastern European)"),
    ],
    "Cyrillic": [
        ("cp1251", "Windows Cyrillic (Windows-1251)"),
        ("iso8859-5", "ISO 8859-5 (Cyrillic)"),
        ("koi8-r", "KOI8-R (Russian)"),
        ("koi8-u", "KOI8-U (Ukrainian)"),
    ],
    "Greek": [("cp1253", "Windows Greek (Windows-1253)"), ("iso8859-7", "ISO 8859-7 (Greek)")],
    "Turkish": [
        ("cp1254", "Windows Turkish (Windows-1254)"),
        ("iso8859-9", "ISO 8859-9 (Turkish)"),
    ],
    "Baltic": [
        ("cp1257", "Windows Baltic (Windows-1257)"),
        ("iso8859-13", "ISO 8859-13 (Baltic)"),
        ("iso8859-4", "ISO 8859-4 (North European)"),
    ],
    "Hebrew": [("cp1255", "Windows Hebrew (Windows-1255)"), ("iso8859-8", "ISO 8859-8 (Hebrew)")],
    "Arabic": [("cp1256", "Windows Arabic (Windows-1256)"), ("iso8859-6", "ISO 8859-6 (Arabic)")],
    "Vietnamese": [("cp1258", "Windows Vietnamese (Windows-1258)")],
    "Thai": [("iso8859-11", "ISO 8859-11 (Thai)")],
    "Japanese": [("shift_jis", "Shift JIS"), ("euc_jp", "EUC-JP")],
    "Chinese": [
        ("gb18030", "Simplified Chinese (GB 18030)"),
        ("big5", "Traditional Chinese (Big5)"),
    ],
    "Korean": [("euc_kr", "EUC-KR")],
}
ENCODINGS = {
    group: [(codecs.lookup(value).name, label) for value, label in choices]
    for group, choices in _ENCODING_GROUPS.items()
}
ENCODING_LABELS = {value: label for choices in ENCODINGS.values() for value, label in choices}


class UploadForm(FlaskForm):
    file = FileField(
        "File",
        validators=[FileRequired(message="Choose a file to import.")],
        description="CSV, TSV or other delimited text, Excel (.xlsx, .xlsm, .xls), "
        "OpenDocument (.ods) or JSON. Sheaf looks at the content, not the name.",
    )


class PreviewForm(FlaskForm):
    name = StringField(
        "Dataset name",
        validators=[DataRequired(message="Give the dataset a name."), Length(max=MAX_NAME)],
    )
    format = SelectField("Format", choices=[SelectChoice(k, v) for k, v in FORMATS.items()])
    encoding = SelectField("Text encoding", validate_choice=False)
    delimiter = SelectField(
        "Delimiter", choices=[SelectChoice(k, v) for k, v in DELIMITERS.items()]
    )
    header_row = IntegerField(
        "Header row",
        validators=[Optional(), NumberRange(min=0, max=1000, message="Use a row from 0 to 1000.")],
        description="The row holding the column names; 0 when the file has none.",
    )
    sheet = SelectField("Sheet", validate_choice=False)
    mode = RadioField(
        "Import as",
        choices=[
            SelectChoice("new", "A new dataset"),
            SelectChoice("append", "Rows added to an existing dataset"),
            SelectChoice("replace", "A replacement for an existing dataset's rows"),
        ],
        default="new",
    )
    target = SelectField("Existing dataset", coerce=int, validate_choice=False)
    recipe = SelectField(
        "Apply a recipe",
        coerce=int,
        validate_choice=False,
        description="Your saved cleaning steps for files with these columns, replayed on the "
        "new rows before they are added.",
    )
    on_bad = RadioField(
        "Values that do not fit their column's type",
        choices=[
            SelectChoice("keep", "Keep them as written, marked as not fitting (nothing is lost)"),
            SelectChoice("empty", "Store them as empty and list them"),
            SelectChoice("refuse", "Refuse the import"),
        ],
        default="keep",
    )


class DescribeForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired(message="Give the dataset a name."), Length(max=200)]
    )
    description = TextAreaField(
        "Description",
        validators=[Length(max=2000)],
        description="What the data is and where it came from, for the people you share it with.",
    )


class ShareForm(FlaskForm):
    target = SelectField(
        "Share with",
        validate_choice=True,
        description="A role gives access to everyone who holds it, now and later.",
    )
    rights = RadioField(
        "Rights",
        choices=[SelectChoice("read", "Read only"), SelectChoice("edit", "Read and change")],
        default="read",
    )


class RowRuleForm(FlaskForm):
    """A row rule: who, which column, what it must hold (choices filled in by the route)."""

    target = SelectField("Who", validate_choice=True)
    column = SelectField("Column", validate_choice=True)
    kind = RadioField("sees only rows where the column", validate_choice=True, default="value")
    values = TextAreaField(
        "Value",
        [Optional(), Length(max=20_000)],
        description="For “equals”, one value; for “is one of”, one value a line. "
        "Leave it empty for their user name or display name.",
        render_kw={"rows": 3},
    )
