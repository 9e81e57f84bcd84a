"""Forms of the import flow. Column types are read per column by the route (their number
varies with the file); everything else is a field here."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ...importers import FORMATS
from ...importers.delimited import DELIMITERS
from ..loading.jobs import MAX_NAME

ENCODINGS = [
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM"),
    ("utf-16", "UTF-16"),
    ("cp1252", "Windows Western (cp1252)"),
    ("cp1250", "Windows Central European (cp1250)"),
    ("cp1251", "Windows Cyrillic (cp1251)"),
    ("latin-1", "ISO 8859-1 (Latin-1)"),
    ("iso8859-15", "ISO 8859-15 (Latin-9)"),
    ("mac-roman", "Mac Roman"),
    ("cp850", "DOS Western (cp850)"),
    ("shift_jis", "Japanese (Shift JIS)"),
    ("gb18030", "Chinese (GB 18030)"),
]


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
