"""Which legacy single-byte encoding a file is in, judged by what its letters say.

Every single-byte encoding reads every byte, so the question is which reading makes sense.
charset-normalizer answers from letter frequencies, which a short file does not have enough
of: a 70-byte Greek file comes out as Windows Cyrillic. Wrong readings give themselves away
in ways a few words already show: letters of two scripts in one word, capitals inside
lower-case words (Greek ``ή`` read as Cyrillic ``Ю``), symbols inside words (Polish ``ł`` read
as ``³``), control characters, and accented letters no single language writes together
(Turkish ``ş`` read as Icelandic ``þ`` next to ``ç``). So each reading is
scored by the share of its non-ASCII letters that look like one language; charset-normalizer's
language coherence only breaks near ties.
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass

HEAD_BYTES = 8192  # enough words to judge by

# Tried in this order; of readings that give the same text, the first wins (cp1252 is the
# usual encoding of files from Windows). Rarer encodings (Thai, Celtic, the Nordic and
# Romanian ISO sets…) read most files as plausible text of their own and are left for the
# person to choose on the preview page.
CANDIDATES = tuple(
    codecs.lookup(name).name
    for name in (
        "cp1252",
        "cp1250",
        "cp1251",
        "cp1253",
        "cp1254",
        "cp1255",
        "cp1256",
        "cp1257",
        "cp1258",
        "iso8859-1",
        "iso8859-2",
        "iso8859-4",
        "iso8859-5",
        "iso8859-7",
        "iso8859-9",
        "iso8859-13",
        "iso8859-15",
        "koi8-r",
        "koi8-u",
        "mac-roman",
    )
)

UNSURE_MARGIN = 0.1  # two readings closer than this in score: the preview asks the person

_CYRILLIC = "".join(map(chr, range(0x430, 0x450)))  # the 32 letters of Russian
# The accented letters of each language written in a Latin or Cyrillic script (lower case).
# A text's accented letters normally all belong to one of these.
_ALPHABETS = (
    "àâæçéèêëîïôœùûüÿ",  # French
    "äöüß",  # German
    "áéíñóúü",  # Spanish
    "áâãàçéêíóôõú",  # Portuguese
    "àèéìíîòóù",  # Italian
    "àçèéíïòóúü",  # Catalan
    "áéíóúëïöüèà",  # Dutch
    "åäöæøéü",  # Scandinavian and Finnish
    "áðéíóúýþæö",  # Icelandic
    "ąćęłńóśźż",  # Polish
    "áčďéěíňóřšťúůýž",  # Czech
    "áäčďéíĺľňóôŕšťúýž",  # Slovak
    "áéíóöőúüű",  # Hungarian
    "ăâîșțşţ",  # Romanian
    "čćđšž",  # Croatian, Bosnian, Serbian (Latin), Slovene
    "çğıöşüâîû",  # Turkish
    "ąčęėįšųūž",  # Lithuanian
    "āčēģīķļņšūž",  # Latvian
    "äõöüšž",  # Estonian
    "çë",  # Albanian
    "ċġħżàèìòù",  # Maltese
    "ŵŷâêîôûáéíóúàèìòùäëïöü",  # Welsh
    "áéíóú",  # Irish
    _CYRILLIC + "ё",  # Russian, Bulgarian
    _CYRILLIC + "ґєії",  # Ukrainian
    _CYRILLIC + "ёіў",  # Belarusian
    _CYRILLIC + "ђјљњћџ",  # Serbian
    _CYRILLIC + "ѓѕјљњќџ",  # Macedonian
)
_SCRIPTS_WITH_ALPHABETS = ("LATIN", "CYRILLIC")
_ODD_BESIDE_LETTERS = {"Sm", "Sc", "Sk", "So", "No", "Po"}
_SAME_SCRIPT = {"HIRAGANA": "CJK", "KATAKANA": "CJK"}
# 20°C, km², 1º, l·l, d'Arc with a typographic apostrophe, ¡Olé!
_FINE_BESIDE_LETTERS = set("°²³ºª·'\u2019-…¡¿•")


@dataclass(frozen=True)
class TextReading:
    """The head of a file read in one encoding, with how much sense the reading makes."""

    encoding: str  # Python's canonical codec name
    text: str
    score: float

    def excerpt(self, limit: int = 80) -> str:
        """The first line that has more than plain ASCII in it, cut to ``limit`` characters."""
        lines = [line.strip() for line in self.text.splitlines() if line.strip()]
        line = next((x for x in lines if not x.isascii()), lines[0] if lines else "")
        return line if len(line) <= limit else line[: limit - 1] + "…"


def rank(head: bytes) -> list[TextReading]:
    """The readings of ``head`` that decode, best first, one per distinct text."""
    head = telling_part(head)
    texts: dict[str, str] = {}  # text → first encoding giving it
    for name in CANDIDATES:
        try:
            text = head.decode(name)
        except UnicodeDecodeError:
            continue
        texts.setdefault(text, name)
    coherence = _coherence(head, texts)
    readings = [
        TextReading(name, text, letter_score(text) + 0.3 * coherence.get(text, 0.0))
        for text, name in texts.items()
    ]
    order = {name: i for i, name in enumerate(CANDIDATES)}
    # Scores that differ by less than rounding are a tie, which the order of CANDIDATES breaks.
    readings.sort(key=lambda r: (-round(r.score, 2), order[r.encoding]))
    return readings


def telling_part(head: bytes) -> bytes:
    """Up to HEAD_BYTES of the lines that are not plain ASCII: on those alone the readings
    differ, and a file's first lines are often ASCII column names and numbers."""
    if not head[:HEAD_BYTES].isascii() and len(head) <= HEAD_BYTES:
        return head
    lines, size = [], 0
    for line in head.splitlines(keepends=True):
        if not line.isascii():
            lines.append(line)
            size += len(line)
            if size >= HEAD_BYTES:
                break
    return b"".join(lines)[:HEAD_BYTES] or head[:HEAD_BYTES]


def best_encoding(head: bytes) -> str:
    readings = rank(head)
    return readings[0].encoding if readings else "iso8859-1"  # latin-1 reads any byte


def unsure(readings: list[TextReading]) -> bool:
    """Whether the two best readings are too close to choose between without asking."""
    return len(readings) > 1 and readings[0].score - readings[1].score < UNSURE_MARGIN


def letter_score(text: str) -> float:
    """How much sense the non-ASCII letters of ``text`` make, from 1 (all do) down."""
    odd = foreign = letters = broken = 0
    counts: dict[str, int] = {}
    for word in _words(text):
        if word.isascii():
            continue
        own = [ch for ch in word if ch.isalpha() and not ch.isascii()]
        letters += len(own)
        if _odd(word):
            odd += len(own) or 1
        for ch in own:
            if _script(ch) in _SCRIPTS_WITH_ALPHABETS:
                key = ch.lower()[:1]
                counts[key] = counts.get(key, 0) + 1
    broken = sum(1 for ch in text if _broken(ch))
    if counts:
        total = sum(counts.values())
        fits = max(sum(n for ch, n in counts.items() if ch in abc) for abc in _ALPHABETS)
        foreign = total - fits
    return 1.0 - (odd + foreign + 3 * broken) / max(letters, 1)


def _words(text: str) -> list[str]:
    """Runs of characters between spaces and the punctuation that separates values."""
    for sep in ',;|\t"()[]{}<>!?:/=+*&#@%_':
        text = text.replace(sep, " ")
    return [word.strip(".") for word in text.split()]


def _odd(word: str) -> bool:
    """A word no language writes: mixed scripts, a capital after a small letter, a symbol
    beside a letter, or three letters or more of which none is plain ASCII."""
    scripts = set()
    lower_seen = False
    latin = plain = 0
    for i, ch in enumerate(word):
        if ch.isalpha():
            script = _script(ch)
            scripts.add(script)
            if ch.isupper() and lower_seen:
                return True
            lower_seen = lower_seen or ch.islower()
            if script == "LATIN":
                latin += 1
                plain += ch.isascii()
        elif unicodedata.category(ch).startswith("M"):
            scripts.add(_script(ch))  # an Arabic vowel sign on a Latin letter: cp1256 misread
        elif unicodedata.category(ch) == "Pf" and i == 0 and word[1:2].isalpha():
            return True  # a closing quote that opens a word: Greek Ά read in ISO 8859-7
        elif ch in _FINE_BESIDE_LETTERS or ch.isascii():
            continue
        elif unicodedata.category(ch) in _ODD_BESIDE_LETTERS and _beside_letter(word, i):
            return True
    if "ς" in word.rstrip("ς"):
        return True  # the Greek final sigma inside a word: Hebrew read as Greek
    scripts.discard("OTHER")
    return len(scripts) > 1 or (latin >= 3 and plain == 0 and len(scripts) == 1)


def _beside_letter(word: str, i: int) -> bool:
    before = i > 0 and word[i - 1].isalpha()
    after = i + 1 < len(word) and word[i + 1].isalpha()
    if unicodedata.category(word[i]) == "Sc":  # €5 or 5€ are fine; only a sign amid letters
        return before and after
    return before or after


def _script(ch: str) -> str:
    name = unicodedata.name(ch, "OTHER").split(" ")[0]
    name = _SAME_SCRIPT.get(name, name)
    return (
        name
        if name.isalpha() and name not in ("MICRO", "FEMININE", "MASCULINE", "COMBINING")
        else "OTHER"
    )


def _broken(ch: str) -> bool:
    """Control characters, unassigned and private code points: no text holds them."""
    return unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs") and ch not in "\t\r\n\x00"


def _coherence(head: bytes, texts: dict[str, str]) -> dict[str, float]:
    """charset-normalizer's language coherence of each distinct reading (0 when not judged)."""
    from charset_normalizer import from_bytes

    found: dict[str, float] = {}
    for match in from_bytes(head, cp_isolation=list(texts.values())):
        try:
            text = head.decode(match.encoding)
        except (LookupError, UnicodeDecodeError):
            continue
        found[text] = max(found.get(text, 0.0), match.coherence)
    return found
