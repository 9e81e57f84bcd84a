"""Every setting a person may change, described once.

The defaults and bounds of :mod:`server.config`, the fields of the Settings page and the tables of
``docs/settings.md`` (``tools/settings_doc.py``) are all made from :data:`SETTINGS`, so they
cannot disagree. This module imports nothing of Sheaf's: everything else may import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Setting:
    """One setting. The type of ``default`` is the type a value must have (bool, int or str;
    a str's ``high`` is its longest length)."""

    name: str  # as in the Flask config; lower case in settings.json, SHEAF_ + name outside
    default: bool | int | str
    label: str  # the field's label on the Settings page, the setting's title in the docs
    help: str  # one sentence under the field and in the docs
    section: str  # the fieldset on the page, the table in the docs
    low: int | None = None  # bounds for whole numbers, so a typo cannot disable a protection
    high: int | None = None
    unit: str = ""  # of the stored value, for the docs: "minutes", "bytes", "KiB"…
    on_page: bool = False  # editable on the Settings page
    page_scale: int = 1  # the page shows value / page_scale (bytes as MiB)
    note: str = ""  # what only the docs say: units and details for settings.json

    @property
    def kind(self) -> type:
        return type(self.default)

    @property
    def key(self) -> str:
        """The name in settings.json and of the page's form field."""
        return self.name.lower()

    @property
    def env(self) -> str:
        return f"SHEAF_{self.name}"

    @property
    def bounds(self) -> tuple[int, int] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)


SESSIONS = "Sign-in and sessions"
FILES = "Files and pages"
BACKUPS = "Backups"
HISTORY = "Dataset history"
IMPORTS = "Import limits"
READING = "Reading imported values"
HASHING = "Password hashing (Argon2id)"
SERVING = "Serving to a network"

SETTINGS: tuple[Setting, ...] = (
    Setting(
        name="IDLE_LOCK_MINUTES",
        default=15,
        low=1,
        high=24 * 60,
        unit="minutes",
        section=SESSIONS,
        on_page=True,
        label="Idle lock (minutes)",
        help="Minutes without input before a session locks and asks for the password again.",
    ),
    Setting(
        name="LOCKOUT_THRESHOLD",
        default=5,
        low=1,
        high=100,
        section=SESSIONS,
        on_page=True,
        label="Wrong passwords before lock-out",
        help="Wrong passwords in a row that lock an account.",
    ),
    Setting(
        name="LOCKOUT_MINUTES",
        default=15,
        low=1,
        high=24 * 60,
        unit="minutes",
        section=SESSIONS,
        on_page=True,
        label="Lock-out (minutes)",
        help="How long a lock-out lasts; an admin can unlock sooner.",
    ),
    Setting(
        name="PASSWORD_MIN_LENGTH",
        default=8,
        low=8,
        high=64,
        unit="characters",
        section=SESSIONS,
        on_page=True,
        label="Shortest password (characters)",
        help="For new passwords; existing ones keep working. NIST suggests 15.",
        note="(NIST SP 800-63B, for accounts signed in with a password alone.)",
    ),
    Setting(
        name="SIGN_IN_PER_MINUTE",
        default=10,
        low=1,
        high=10_000,
        section=SERVING,
        label="Sign-ins per minute from one computer",
        help="With sheaf serve: attempts past it are refused until it refills; each one costs "
        "a password check, an unknown name's too.",
        note="A client may use them all at once, then one more every 60/N seconds; an IPv6 "
        "/64 network counts as one computer. Behind a reverse proxy every client shares the "
        "proxy's address.",
    ),
    Setting(
        name="MAX_CONTENT_LENGTH",
        default=1024**3,
        low=1024,
        high=64 * 1024**3,
        unit="bytes",
        section=FILES,
        on_page=True,
        page_scale=MIB,
        label="Largest upload (MiB)",
        help="Larger files are refused before reading.",
        note="It bounds every request body, in bytes (the page shows MiB); a larger one gets the "
        '"Too large" page.',
    ),
    Setting(
        name="PAGE_SIZE",
        default=50,
        low=10,
        high=1000,
        unit="rows",
        section=FILES,
        on_page=True,
        label="Rows per page",
        help="In datasets and long lists such as the audit log.",
    ),
    Setting(
        name="BACKUP_AUTOMATIC",
        default=True,
        section=BACKUPS,
        on_page=True,
        label="Automatic backups",
        help="At start-up, when the newest backup is more than a day old.",
        note="The backup is made in the data folder's `backups/`.",
    ),
    Setting(
        name="BACKUP_KEEP",
        default=7,
        low=1,
        high=365,
        section=BACKUPS,
        on_page=True,
        label="Automatic backups kept",
        help="Older automatic backups are deleted.",
        note="They are deleted after each new one; backups made by hand stay until deleted.",
    ),
    Setting(
        name="HISTORY_KEEP_VERSIONS",
        default=50,
        low=5,
        high=10_000,
        unit="versions",
        section=HISTORY,
        on_page=True,
        label="Versions kept per dataset",
        help="Older versions can no longer be gone back to once they are also past the days kept.",
        note="A version is pruned only when it is older than both limits; the current one and "
        "what the next undo or redo needs are always kept. Pruning frees the files of bulk "
        "changes; the history still lists every version.",
    ),
    Setting(
        name="HISTORY_KEEP_DAYS",
        default=7,
        low=1,
        high=3650,
        unit="days",
        section=HISTORY,
        on_page=True,
        label="Days of versions kept",
        help="Versions younger than this are always kept, however many there are.",
    ),
    Setting(
        name="IMPORT_MAX_CELL_CHARS",
        default=1_000_000,
        low=1000,
        high=100_000_000,
        unit="characters",
        section=IMPORTS,
        label="Longest cell",
        help="A longer cell in an imported text file stops the import with a message naming the "
        "row.",
    ),
    Setting(
        name="IMPORT_JSON_MAX_DEPTH",
        default=32,
        low=2,
        high=1000,
        section=IMPORTS,
        label="Deepest JSON nesting",
        help="How deeply a JSON record may nest objects and arrays.",
    ),
    Setting(
        name="IMPORT_XLSX_MAX_UNCOMPRESSED_MIB",
        default=4096,
        low=1,
        high=1024 * 1024,
        unit="MiB",
        section=IMPORTS,
        label="Largest unpacked workbook",
        help="How large a workbook (.xlsx, .ods) may become when unpacked: the guard against zip "
        "bombs.",
    ),
    Setting(
        name="IMPORT_XLSX_MAX_RATIO",
        default=200,
        low=10,
        high=10_000,
        section=IMPORTS,
        label="Largest compression ratio",
        help="Of a part of a workbook, past its first 10 MiB; real spreadsheets stay far below it.",
    ),
    Setting(
        name="IMPORT_XLSX_MAX_WHOLE_SHEET_MIB",
        default=256,
        low=1,
        high=64 * 1024,
        unit="MiB",
        section=IMPORTS,
        label="Largest sheet read whole",
        help="A sheet that cannot be streamed (.xls, .xlsb, .ods, an .xlsx whose rows are stored "
        "out of order) is refused when its cells would take more memory than this.",
        note="Cells are counted before they are read, repeated rows and columns included, at 32 "
        "bytes each; the reader's helper process may use about four times this much.",
    ),
    # RFC 9106's "second recommended option": 64 MiB, 3 passes, 4 lanes.
    Setting(
        name="ARGON2_TIME_COST",
        default=3,
        low=1,
        high=20,
        section=HASHING,
        label="Passes",
        help="Argon2id passes per password hash.",
    ),
    Setting(
        name="ARGON2_MEMORY_COST",
        default=64 * 1024,
        low=8,
        high=4 * 1024 * 1024,
        unit="KiB",
        section=HASHING,
        label="Memory",
        help="Argon2id memory per password hash.",
    ),
    Setting(
        name="ARGON2_PARALLELISM",
        default=4,
        low=1,
        high=16,
        section=HASHING,
        label="Lanes",
        help="Argon2id lanes.",
    ),
    Setting(
        name="TYPE_THRESHOLD",
        default=95,
        low=50,
        high=100,
        unit="per cent",
        section=READING,
        on_page=True,
        label="Values a column's type must fit (%)",
        help="A column is guessed as a number, date or yes/no when at least this share of its "
        "values fit; the others are kept as written and flagged.",
    ),
    Setting(
        name="DAY_FIRST",
        default=True,
        section=READING,
        on_page=True,
        label="Dates such as 03/04/2024 are day first",
        help="How to read a column whose every date could be either way round (the preview "
        "says which it chose and offers the other).",
    ),
    Setting(
        name="MISSING_MARKERS",
        default="NA, N/A, #N/A, n.a., -, --, null, none, missing, nan, ?",
        low=0,
        high=500,
        section=READING,
        on_page=True,
        label="Read as empty",
        help="Words that mean 'no value' in a column of numbers, dates or yes/no, separated "
        "by commas (any case). Text columns keep them as written.",
    ),
)

SETTINGS_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def by_section(settings: Iterable[Setting]) -> dict[str, list[Setting]]:
    """Group ``settings`` by section, sections and settings in table order."""
    sections: dict[str, list[Setting]] = {}
    for setting in settings:
        sections.setdefault(setting.section, []).append(setting)
    return sections
