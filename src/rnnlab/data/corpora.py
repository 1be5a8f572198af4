"""Text corpora: the two bundled with rnnlab, or any UTF-8 file of the user's.

Bundled (gzip-compressed inside the package, ``data/corpora/``; origins and licences in
``data/corpora/ORIGINS.md``):

- ``shakespeare``: Tiny Shakespeare (Karpathy's char-rnn), 1,115,394 characters, English;
- ``hugo``: Victor Hugo, *Notre-Dame de Paris* (1831), Project Gutenberg #19657 without the
  PG header and licence, 1,046,444 characters, French.

Text read from a file is decoded as strict UTF-8 (a leading BOM is dropped), its line endings
``\\r\\n`` and ``\\r`` become ``\\n`` (as Python's text mode does) and it is NFC-normalised
(see :mod:`rnnlab.data.text`). A file that is missing, a directory, not UTF-8 (a binary file),
empty or shorter than 2 characters raises :class:`~rnnlab.errors.DataError` naming it.

gzip rather than xz: xz would save 150 kB, but Python builds without ``lzma`` exist and
``gzip`` (zlib) is always there.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import DataError
from ..i18n import integer, say
from .text import normalize


@dataclass(frozen=True)
class BundledCorpus:
    """A corpus shipped inside the package: its compressed file, checksum and size."""

    file: str  # in rnnlab/data/corpora/
    sha256: str  # of the UTF-8 text once decompressed (the upstream figure, see ORIGINS.md)
    chars: int
    language: str
    description: str


BUNDLED = {
    "shakespeare": BundledCorpus(
        "tinyshakespeare.txt.gz", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        1_115_394, "en", "Tiny Shakespeare (karpathy/char-rnn), 1,115,394 characters, English"),
    "hugo": BundledCorpus(
        "hugo_notre_dame_de_paris.txt.gz", "1d3ad614dd52455b98e4b867294d1b3db69030db5292950105671533d4050aaf",
        1_046_444, "fr",
        "Victor Hugo, Notre-Dame de Paris (1831, Project Gutenberg #19657), 1,046,444 characters, French"),
}

CORPORA = {name: c.description for name, c in BUNDLED.items()}  # name -> description

MIN_CHARS = 2  # one (input, target) pair


def corpus_description(name: str) -> str:
    """The description of a bundled corpus in the output language."""
    return {"shakespeare": say(f"Tiny Shakespeare (karpathy/char-rnn), {integer(1115394)} characters, "
                               "English",
                               f"Tiny Shakespeare (karpathy/char-rnn), {integer(1115394)} caractères, "
                               "anglais"),
            "hugo": say(f"Victor Hugo, Notre-Dame de Paris (1831, Project Gutenberg #19657), "
                        f"{integer(1046444)} characters, French",
                        f"Victor Hugo, Notre-Dame de Paris (1831, projet Gutenberg n° {integer(19657)}), "
                        f"{integer(1046444)} caractères, français"),
            }[name]


def bundled_path(name: str):
    """The compressed file of a bundled corpus (an importlib.resources Traversable)."""
    return resources.files("rnnlab.data").joinpath("corpora", BUNDLED[name].file)


def decode_text(data: bytes, source: str, min_chars: int = MIN_CHARS) -> str:
    """Strict UTF-8 → str, BOM dropped, newlines unified, NFC; :class:`DataError` naming
    ``source`` for binary, undecodable, empty or too short input."""
    if b"\x00" in data[:1 << 16]:
        at = data.index(b"\x00")
        raise DataError(say(f"{source}: expected UTF-8 text, got a binary file (NUL byte at offset {at})",
                            f"{source} : texte UTF-8 attendu, reçu un fichier binaire "
                            f"(octet NUL à la position {at})"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DataError(say(
            f"{source}: expected UTF-8 text, got byte 0x{data[e.start]:02X} at offset {e.start} "
            f"({e.reason}); convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)",
            f"{source} : texte UTF-8 attendu, reçu l'octet 0x{data[e.start]:02X} à la position {e.start} "
            f"({e.reason}) ; convertir le fichier en UTF-8 (par ex. iconv -f latin1 -t utf-8)")) from None
    text = normalize(text.replace("\r\n", "\n").replace("\r", "\n"))
    if len(text) < min_chars:
        raise DataError(say(f"{source}: expected at least {min_chars} characters of text, got {len(text)}",
                            f"{source} : au moins {min_chars} caractères de texte attendus, "
                            f"reçu {integer(len(text))}"))
    return text


def load_corpus(name_or_path: str | Path, min_chars: int = MIN_CHARS) -> str:
    """The text of a bundled corpus (``"shakespeare"``, ``"hugo"``) or of a UTF-8 file.

    A bundled name wins over a file of the same name in the current directory: write
    ``./hugo`` for the file."""
    return read_corpus(name_or_path, min_chars)[0]


def read_corpus(name_or_path: str | Path, min_chars: int = MIN_CHARS, *, expect_sha256: str | None = None,
                recorded_in=None) -> tuple[str, str]:
    """``(text, sha256)`` of a corpus (:func:`load_corpus`); the sha256 is of its bytes as stored
    (a bundled corpus: of its decompressed text). With ``expect_sha256`` (what a run recorded, in
    the file ``recorded_in``), bytes with another sha256 are refused before they are decoded or
    used: a run's corpus is the text it was trained on, never whatever its path names now."""
    data, source = _corpus_bytes(name_or_path)
    digest = hashlib.sha256(data).hexdigest()
    if expect_sha256 is not None and digest != expect_sha256:
        where = f" {recorded_in}" if recorded_in else ""
        raise DataError(say(f"{source}: sha256 {digest[:16]}…, expected {expect_sha256[:16]}… as recorded "
                            f"in{where or ' the run'}: not the text the run was trained on (give that "
                            "file back, or train a new run)",
                            f"{source} : sha256 {digest[:16]}…, {expect_sha256[:16]}… attendu comme "
                            f"noté dans{where or ' le run'} : ce n'est pas le texte de l'entraînement "
                            "(remettre ce fichier, ou entraîner à nouveau)"))
    return decode_text(data, source, min_chars), digest


def _corpus_bytes(name_or_path) -> tuple[bytes, str]:
    """The bytes of a corpus and how messages name it."""
    key = str(name_or_path)
    if key in BUNDLED:
        entry = BUNDLED[key]
        with bundled_path(key).open("rb") as f:
            data = gzip.decompress(f.read())
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise DataError(say(f"bundled corpus {key!r} ({entry.file}): sha256 differs from ORIGINS.md; "
                                f"the installation is damaged, reinstall rnnlab",
                                f"corpus fourni « {key} » ({entry.file}) : sha256 différent de ORIGINS.md ; "
                                f"installation abîmée, réinstaller rnnlab"))
        return data, f"corpus {key!r}"
    path = Path(name_or_path).expanduser()
    if not path.exists():
        hint = "" if ("/" in key or "." in key) else say(
            f"; bundled corpora: {', '.join(BUNDLED)}", f" ; corpus fournis : {', '.join(BUNDLED)}")
        raise DataError(say(f"corpus {key}: no such file{hint}",
                            f"corpus {key} : fichier introuvable{hint}"))
    if path.is_dir():
        raise DataError(say(f"corpus {key}: expected a text file, got a directory",
                            f"corpus {key} : fichier texte attendu, reçu un dossier"))
    try:
        return path.read_bytes(), str(path)
    except OSError as e:
        raise DataError(say(f"corpus {key}: cannot read ({e.strerror})",
                            f"corpus {key} : lecture impossible ({e.strerror})")) from None
