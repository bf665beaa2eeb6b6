#!/usr/bin/env python3
"""arca-exit: read an Arca Safe or an Arca backup without Arca.

Written from docs/formats/ alone (README.md, safe.md, database.md, key-file.md, backup.md) and
the RNCryptor v3 specification; section names in the comments ("safe.md, Data files") point at
the rule being applied. Needs Python 3.11 with `cryptography` and `sqlcipher3-binary`
(docs/exit/requirements.txt). Runs on Linux and macOS.

    arca-exit.py list    SOURCE [--trash] [--json]
    arca-exit.py extract SOURCE OUT [--trash-into DIR]

SOURCE is a Safe folder (holds safe.json) or a backup folder (holds backup.json). The Safe
Password is asked on the terminal, or read with --password-stdin; --recovery-key uses the
recovery key instead.

Exit status: 0 everything done; 1 some items could not be extracted (or listed): each is named
on stderr; 2 usage error or mistyped recovery key; 3 wrong password or recovery key, or a
damaged key file; 4 not a Safe or a backup, damaged beyond reading, or written by a newer Arca;
5 input/output error (OUT not empty or not writable, disk full, unreadable SOURCE).
"""

from __future__ import annotations

import argparse
import datetime
import errno
import getpass
import hashlib
import hmac
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import unicodedata
import uuid
import warnings
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

try:
    from cryptography.hazmat.primitives import hashes, padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
except ImportError:  # pragma: no cover - reported to the person, not a bug
    sys.stderr.write("arca-exit: the Python package 'cryptography' is missing "
                     "(pip install -r docs/exit/requirements.txt)\n")
    sys.exit(5)

# sqlcipher3 is only needed for a Safe (a backup needs no database): imported when used.

EXIT_OK, EXIT_ITEMS, EXIT_USAGE, EXIT_AUTH, EXIT_FORMAT, EXIT_IO = 0, 1, 2, 3, 4, 5

# What this reader was written for (README.md, "Versions"). Anything higher is refused.
SAFE_VERSION = 1
KEY_PAYLOAD_VERSION = 1
DB_SCHEMA_VERSIONS = (1, 2, 3, 4)
BACKUP_VERSIONS = (1, 2)
ITEM_DOC_VERSION = 1
INDEX_DOC_VERSION = 1

CHUNK = 1 << 20  # bytes read at a time from a data file
PARTIAL_SUFFIX = ".arca-exit-partial"
NEWER = "written by a newer Arca: update Arca, or use a newer arca-exit"


class Fatal(Exception):
    """An error that stops the whole command: one line on stderr, then exit `code`."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ItemProblem(Exception):
    """An error that stops one item; the others go on."""


class DiskProblem(Exception):
    """A write error that no other item can escape either (disk full, read-only): stop."""


def show(text: str) -> str:
    """A name or path made safe to print: control characters and undecodable bytes escaped."""
    out = []
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append(f"\\x{o - 0xDC00:02x}")
        elif o < 0x20 or 0x7F <= o <= 0x9F or 0xD800 <= o <= 0xDFFF:
            out.append(f"\\u{o:04x}" if o > 0xFF else f"\\x{o:02x}")
        else:
            out.append(ch)
    return "".join(out)


# ------------------------------------------------------------------------------------------
# The name rule (safe.md, "The name rule")
# ------------------------------------------------------------------------------------------

def name_problem(name: str) -> str | None:
    """Why `name` must not be used as one component of a path, or None if it satisfies the
    name rule: 1 to 255 bytes of UTF-8; no '/', no NUL, no other control character (Unicode
    general category Cc: U+0000-U+001F, U+007F, U+0080-U+009F); not '.' and not '..'."""
    if not isinstance(name, str):
        return "is not text"
    try:
        raw = name.encode("utf-8")  # undecodable bytes (surrogateescape) fail here
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    if len(raw) == 0:
        return "is empty"
    if len(raw) > 255:
        return f"is {len(raw)} bytes long (at most 255)"
    if name in (".", ".."):
        return f"is '{name}'"
    if "/" in name:
        return "contains '/'"
    for ch in name:
        if unicodedata.category(ch) == "Cc":
            return f"contains the control character U+{ord(ch):04X}"
    # Not in the rule, but a separator of this operating system must not pass either.
    for sep in (os.sep, os.altsep):
        if sep and sep in name:
            return f"contains the path separator {sep!r} of this system"
    return None


# ------------------------------------------------------------------------------------------
# Recovery key (key-file.md, "Recovery key")
# ------------------------------------------------------------------------------------------

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: 0-9 A-Z without I L O U


class RecoveryKeyTypo(Exception):
    pass


def recovery_checksum(data_symbols: str) -> str:
    """The 4 checksum symbols: the first 20 bits of SHA-256 over the 26 data symbols (ASCII),
    5 bits per symbol, most significant first."""
    digest = hashlib.sha256(data_symbols.encode("ascii")).digest()
    bits20 = int.from_bytes(digest[:3], "big") >> 4
    return "".join(CROCKFORD[(bits20 >> (15 - 5 * i)) & 31] for i in range(4))


def normalise_recovery_key(typed: str) -> str:
    """The canonical form XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX of a typed recovery key.
    Case, white space and dashes are ignored; I and L read as 1, O as 0. A wrong length, a character
    outside the alphabet or a wrong checksum raises RecoveryKeyTypo (before any derivation)."""
    symbols = []
    for ch in typed.upper():
        if ch.isspace() or ch == "-":
            continue
        ch = {"I": "1", "L": "1", "O": "0"}.get(ch, ch)
        if ch not in CROCKFORD:
            raise RecoveryKeyTypo(f"it holds {show(ch)!r}, which is not one of its characters "
                                  "(0-9 and A-Z without I, L, O, U)")
        symbols.append(ch)
    if len(symbols) != 30:
        raise RecoveryKeyTypo(f"it has {len(symbols)} characters, 30 expected (six groups "
                              "of five)")
    key = "".join(symbols)
    if recovery_checksum(key[:26]) != key[26:]:
        raise RecoveryKeyTypo("its checksum does not match: a character is mistyped")
    return "-".join(key[i:i + 5] for i in range(0, 30, 5))


# ------------------------------------------------------------------------------------------
# RNCryptor v3 (the RNCryptor v3 spec; key-file.md; safe.md, "Data files")
# ------------------------------------------------------------------------------------------

def _decrypt_cbc(enc_key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """AES-256-CBC decryption and PKCS#7 unpadding (raises ValueError on bad padding)."""
    decryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    return unpadder.update(padded) + unpadder.finalize()


def open_password_message(message: bytes, password: bytes, iterations: int) -> bytes | None:
    """Open an RNCryptor v3 password-based message (options 0x01):
    03 | 01 | encryption salt (8) | HMAC salt (8) | IV (16) | ciphertext | HMAC-SHA256 (32).
    Each key is PBKDF2-HMAC-SHA1(password, its salt, iterations, 32 bytes). Returns None when
    the HMAC does not match (wrong password or damaged file: they look alike)."""
    if (len(message) < 2 + 8 + 8 + 16 + 16 + 32 or message[0] != 3 or message[1] != 1
            or (len(message) - 66) % 16 != 0):
        return None
    enc_salt, hmac_salt, iv = message[2:10], message[10:18], message[18:34]
    with ThreadPoolExecutor(max_workers=2) as pool:  # the two derivations in parallel
        enc_future = pool.submit(hashlib.pbkdf2_hmac, "sha1", password, enc_salt, iterations, 32)
        hmac_future = pool.submit(hashlib.pbkdf2_hmac, "sha1", password, hmac_salt, iterations, 32)
        enc_key, hmac_key = enc_future.result(), hmac_future.result()
    expected = hmac.new(hmac_key, message[:-32], hashlib.sha256).digest()
    if not hmac.compare_digest(expected, message[-32:]):
        return None
    try:
        return _decrypt_cbc(enc_key, iv, message[34:-32])
    except ValueError:
        return None


def open_key_message(message: bytes, enc_key: bytes, hmac_key: bytes) -> bytes | None:
    """Open a small RNCryptor v3 key-based message (options 0x00), in memory:
    03 | 00 | IV (16) | ciphertext | HMAC-SHA256 (32). None if it does not authenticate."""
    if len(message) < 2 + 16 + 16 + 32 or message[0] != 3 or message[1] != 0 \
            or (len(message) - 50) % 16 != 0:
        return None
    expected = hmac.new(hmac_key, message[:-32], hashlib.sha256).digest()
    if not hmac.compare_digest(expected, message[-32:]):  # before trusting any byte
        return None
    try:
        return _decrypt_cbc(enc_key, message[2:18], message[18:-32])
    except ValueError:
        return None


def data_file_length(size: int) -> int:
    """safe.md, "Data files": 18 + 16 x (floor(size / 16) + 1) + 32."""
    return 18 + 16 * (size // 16 + 1) + 32


# ------------------------------------------------------------------------------------------
# Manifests: safe.json (safe.md) and backup.json (backup.md)
# ------------------------------------------------------------------------------------------

@dataclass
class Manifest:
    kind: str           # "safe" or "backup"
    version: int
    safe_id: uuid.UUID
    iterations: int
    index_running_by_times: bool = False  # backup format 1: the run times say a run is unfinished


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_json(path: str, what: str) -> dict:
    try:
        with open(path, "rb") as f:
            raw = f.read(1 << 20)
    except PermissionError as e:
        raise Fatal(EXIT_IO, f"cannot read {path}: {e.strerror}")
    except OSError as e:
        raise Fatal(EXIT_IO, f"cannot read {path}: {e.strerror}")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Fatal(EXIT_FORMAT, f"{path} is not valid JSON: not {what}, or damaged")
    if not isinstance(doc, dict):
        raise Fatal(EXIT_FORMAT, f"{path} is not a JSON object: not {what}, or damaged")
    return doc


def _check_version(doc: dict, path: str, known: tuple[int, ...]) -> int:
    version = doc.get("version")
    if not _is_int(version) or version < 1:
        raise Fatal(EXIT_FORMAT, f"{path}: 'version' is missing or not a positive integer")
    if version > max(known):
        # README.md, "Versions": refuse a higher number, untouched.
        raise Fatal(EXIT_FORMAT, f"{path} has version {version}: {NEWER}")
    return version


def _check_iterations(value, path: str) -> int:
    # safe.md, "safe.json": 1 to 20,000,000 accepted.
    if not _is_int(value) or not 1 <= value <= 20_000_000:
        raise Fatal(EXIT_FORMAT, f"{path}: the KDF iteration count is not between 1 and "
                                 "20,000,000: damaged")
    return value


def _check_safe_id(value, path: str) -> uuid.UUID:
    try:
        parsed = uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        raise Fatal(EXIT_FORMAT, f"{path}: 'safe_id' is not a UUID: damaged")
    if str(parsed) != value:
        raise Fatal(EXIT_FORMAT, f"{path}: 'safe_id' is not a lower-case hyphenated UUID")
    return parsed


def read_safe_manifest(folder: str) -> Manifest:
    """safe.md, "safe.json": unknown fields refused; a newer version refused untouched."""
    path = os.path.join(folder, "safe.json")
    doc = _read_json(path, "an Arca Safe")
    version = _check_version(doc, path, (SAFE_VERSION,))
    if doc.get("format") != "arca-safe":
        raise Fatal(EXIT_FORMAT, f"{path}: 'format' is not 'arca-safe': not an Arca Safe")
    unknown = set(doc) - {"format", "version", "safe_id", "kdf"}
    if unknown:
        raise Fatal(EXIT_FORMAT, f"{path} has unknown fields ({', '.join(sorted(unknown))}): "
                                 "damaged, or written by a newer Arca")
    kdf = doc.get("kdf")
    if not isinstance(kdf, dict) or set(kdf) != {"name", "iterations"}:
        raise Fatal(EXIT_FORMAT, f"{path}: 'kdf' must hold exactly 'name' and 'iterations'")
    if kdf["name"] != "PBKDF2-HMAC-SHA1":
        raise Fatal(EXIT_FORMAT, f"{path}: unknown KDF {kdf['name']!r}")
    return Manifest("safe", version, _check_safe_id(doc.get("safe_id"), path),
                    _check_iterations(kdf["iterations"], path))


def read_backup_manifest(folder: str) -> Manifest:
    """backup.md, "backup.json": format 2 has a 'kdf' object, format 1 'kdf_name' and
    'kdf_iterations'; unknown fields refused; a newer version is "newer", not "damaged"."""
    path = os.path.join(folder, "backup.json")
    doc = _read_json(path, "an Arca backup")
    version = _check_version(doc, path, BACKUP_VERSIONS)
    if doc.get("format") != "arca-backup":
        raise Fatal(EXIT_FORMAT, f"{path}: 'format' is not 'arca-backup': not an Arca backup")
    if version == 1:
        known = {"format", "version", "safe_id", "kdf_name", "kdf_iterations",
                 "last_started", "last_complete"}
        kdf_name, iterations = doc.get("kdf_name"), doc.get("kdf_iterations")
    else:
        known = {"format", "version", "safe_id", "kdf", "last_started", "last_complete"}
        kdf = doc.get("kdf")
        if not isinstance(kdf, dict) or set(kdf) != {"name", "iterations"}:
            raise Fatal(EXIT_FORMAT, f"{path}: 'kdf' must hold exactly 'name' and 'iterations'")
        kdf_name, iterations = kdf["name"], kdf["iterations"]
    unknown = set(doc) - known
    if unknown:
        raise Fatal(EXIT_FORMAT, f"{path} has unknown fields ({', '.join(sorted(unknown))}): "
                                 "damaged, or written by a newer Arca")
    if kdf_name != "PBKDF2-HMAC-SHA1":
        raise Fatal(EXIT_FORMAT, f"{path}: unknown KDF {kdf_name!r}")
    manifest = Manifest("backup", version, _check_safe_id(doc.get("safe_id"), path),
                        _check_iterations(iterations, path))
    if version == 1:
        # backup.md, "backup.json": in format 1, last_started > last_complete (or
        # last_complete null while last_started is set) means the latest run was interrupted.
        started, complete = doc.get("last_started"), doc.get("last_complete")
        manifest.index_running_by_times = (
            _is_int(started) and (complete is None or (_is_int(complete) and started > complete)))
    return manifest


def detect_source(folder: str) -> Manifest:
    if not os.path.exists(folder):
        raise Fatal(EXIT_FORMAT, f"{folder} does not exist")
    if not os.path.isdir(folder):
        raise Fatal(EXIT_FORMAT, f"{folder} is not a folder: not an Arca Safe or backup")
    has_safe = os.path.exists(os.path.join(folder, "safe.json"))
    has_backup = os.path.exists(os.path.join(folder, "backup.json"))
    if has_safe and has_backup:
        raise Fatal(EXIT_FORMAT, f"{folder} holds both safe.json and backup.json: "
                                 "not a Safe or a backup Arca wrote")
    if has_safe:
        return read_safe_manifest(folder)
    if has_backup:
        return read_backup_manifest(folder)
    raise Fatal(EXIT_FORMAT, f"{folder} is not an Arca Safe (no safe.json) or backup "
                             "(no backup.json)")


# ------------------------------------------------------------------------------------------
# Key files (key-file.md)
# ------------------------------------------------------------------------------------------

@dataclass
class Keys:
    safe_id: uuid.UUID
    file_enc: bytes     # payload bytes 18..50
    file_hmac: bytes    # payload bytes 50..82
    database: bytes     # payload bytes 82..114

    def record_keys(self, backup_version: int) -> tuple[bytes, bytes]:
        """backup.md, "Encrypted documents": format 2 seals documents under keys derived
        with HKDF-SHA256(salt none, ikm enc || hmac, info "arca backup records v2", 64);
        format 1 under the file keys themselves."""
        if backup_version < 2:
            return self.file_enc, self.file_hmac
        okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=None,
                   info=b"arca backup records v2").derive(self.file_enc + self.file_hmac)
        return okm[:32], okm[32:]


def unlock(folder: str, manifest: Manifest, secret: bytes, recovery: bool) -> Keys:
    name = "recovery.key" if recovery else "safe.key"
    path = os.path.join(folder, name)
    what = "recovery key" if recovery else "Safe Password"
    try:
        with open(path, "rb") as f:
            message = f.read(1 << 16)
    except FileNotFoundError:
        if recovery:
            raise Fatal(EXIT_USAGE, f"{folder} has no recovery.key: this Safe has no recovery "
                                    "key; use the Safe Password")
        raise Fatal(EXIT_FORMAT, f"{path} is missing: the {manifest.kind} is damaged")
    except OSError as e:
        raise Fatal(EXIT_IO, f"cannot read {path}: {e.strerror}")
    payload = open_password_message(message, secret, manifest.iterations)
    if payload is None:
        # key-file.md: a wrong password and a damaged file are the same error.
        raise Fatal(EXIT_AUTH, f"wrong {what} (or {name} is damaged)")
    # key-file.md, "Cleartext payload": 114 bytes, big-endian, version first.
    if len(payload) >= 2 and int.from_bytes(payload[:2], "big") > KEY_PAYLOAD_VERSION:
        raise Fatal(EXIT_FORMAT, f"{name} holds keys of payload version "
                                 f"{int.from_bytes(payload[:2], 'big')}: {NEWER}")
    if len(payload) != 114 or int.from_bytes(payload[:2], "big") != KEY_PAYLOAD_VERSION:
        raise Fatal(EXIT_AUTH, f"{name} is damaged (its content is not a key payload)")
    keys = Keys(uuid.UUID(bytes=payload[2:18]), payload[18:50], payload[50:82], payload[82:114])
    # safe.md, "Key files": the UUID inside must equal safe_id; another Safe's is "damaged".
    if keys.safe_id != manifest.safe_id:
        manifest_name = "safe.json" if manifest.kind == "safe" else "backup.json"
        raise Fatal(EXIT_AUTH, f"{name} belongs to another Safe ({keys.safe_id}, not "
                               f"{manifest.safe_id} as {manifest_name} says): damaged")
    return keys


# ------------------------------------------------------------------------------------------
# Items
# ------------------------------------------------------------------------------------------

@dataclass(eq=False)  # items compare by identity
class Item:
    id: str                   # lower-case hyphenated UUID
    parent: str | None
    kind: str                 # "file" or "folder"
    name: str
    size: int
    created_at: int | None    # nanoseconds since the Unix epoch, UTC
    modified_at: int | None
    added_at: int
    trashed_at: int | None
    favorite: bool
    comment: str
    tags: list[str]
    content: str              # present / pending / missing / none
    hmac_tag: bytes | None
    sha256: bytes | None
    # Filled in by Tree:
    path: str | None = None   # "/a/b"; None when its folder is unknown
    in_trash: bool = False
    children: list["Item"] = field(default_factory=list)

    def data_relpath(self) -> str:
        # safe.md, "Data files"; backup.md: the same relative path in a backup.
        return os.path.join("files", self.id[:2], self.id + ".data.crypt")


@dataclass
class Problem:
    where: str   # the item's path, or how else it can be named (already safe to print)
    reason: str


def _uuid_text(value, what: str) -> str:
    if not isinstance(value, bytes) or len(value) != 16:
        raise ValueError(f"{what} is not a 16-byte UUID")
    return str(uuid.UUID(bytes=value))


def _digest(value, what: str) -> bytes | None:
    """A tag or hash: a 32-byte BLOB (schema 2) or 64 hex digits as TEXT (schema 1)."""
    if value is None:
        return None
    if isinstance(value, bytes) and len(value) == 32:
        return value
    if isinstance(value, str) and re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return bytes.fromhex(value)
    raise ValueError(f"{what} is neither 32 bytes nor 64 hex digits")


def _opt_int(value, what: str) -> int | None:
    if value is None or _is_int(value):
        return value
    raise ValueError(f"{what} is not an integer")


# ------------------------------------------------------------------------------------------
# Reading a Safe's database (database.md)
# ------------------------------------------------------------------------------------------

def read_safe_items(folder: str, keys: Keys) -> tuple[list[Item], list[Problem]]:
    try:
        import sqlcipher3
    except ImportError:
        raise Fatal(EXIT_IO, "the Python package 'sqlcipher3' is missing "
                             "(pip install -r docs/exit/requirements.txt)")
    db_path = os.path.join(folder, "attributes.db")
    if not os.path.isfile(db_path):
        raise Fatal(EXIT_FORMAT, f"{db_path} is missing: the Safe is damaged "
                                 "(extract from a backup of it instead)")
    # database.md, "Opening it": the -wal may hold committed transactions, and SQLite must
    # apply it. To leave the Safe untouched (and read one on read-only media), the database
    # and its -wal are copied (still encrypted) into a private temporary folder and read
    # there. attributes.db-shm is not needed: SQLite rebuilds it from the -wal.
    workdir = tempfile.mkdtemp(prefix="arca-exit-db-")
    try:
        try:
            shutil.copyfile(db_path, os.path.join(workdir, "attributes.db"))
            if os.path.exists(db_path + "-wal"):
                shutil.copyfile(db_path + "-wal", os.path.join(workdir, "attributes.db-wal"))
        except OSError as e:
            raise Fatal(EXIT_IO, f"cannot read {db_path}: {e.strerror}")
        con = sqlcipher3.connect(os.path.join(workdir, "attributes.db"), isolation_level=None)
        try:
            return _read_database(con, keys, folder, sqlcipher3)
        finally:
            con.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _read_database(con, keys: Keys, folder: str, sqlcipher3) -> tuple[list[Item], list[Problem]]:
    # Names are read as bytes and decoded here: one that is not UTF-8 fails the name rule
    # instead of stopping the whole read.
    con.text_factory = lambda raw: raw.decode("utf-8", "surrogateescape")
    # SQLCipher logs its own errors to stderr: this reader reports them in one line itself.
    con.execute("PRAGMA cipher_log_level = NONE")
    # database.md, "Opening it": SQLCipher 4 defaults, the raw 32-byte key as a blob literal.
    con.execute(f"PRAGMA key = \"x'{keys.database.hex()}'\"")
    con.execute("PRAGMA cipher_compatibility = 4")
    try:
        con.execute("SELECT count(*) FROM sqlite_master").fetchone()  # proves the key
        schema = con.execute("PRAGMA user_version").fetchone()[0]
    except sqlcipher3.DatabaseError as e:
        raise Fatal(EXIT_FORMAT, f"attributes.db does not open with this Safe's key ({e}): "
                                 "it is damaged (extract from a backup of it instead)")
    if schema > max(DB_SCHEMA_VERSIONS):
        raise Fatal(EXIT_FORMAT, f"attributes.db has schema version {schema}: {NEWER}")
    if schema not in DB_SCHEMA_VERSIONS:
        raise Fatal(EXIT_FORMAT, f"attributes.db has schema version {schema}: "
                                 "not an Arca database, or damaged")
    try:
        rows = con.execute(
            "SELECT id, parent, kind, name, size, created_at, modified_at, added_at, "
            "trashed_at, favorite, comment, content, hmac_tag, sha256 FROM items").fetchall()
        tag_rows = con.execute(
            "SELECT item_tags.item, tags.name FROM item_tags "
            "JOIN tags ON tags.id = item_tags.tag").fetchall()
        replacement_rows = []
        if schema >= 2:  # content_replacements came with schema 2 (database.md, last section)
            replacement_rows = con.execute(
                "SELECT item, size, modified_at, hmac_tag, sha256 "
                "FROM content_replacements").fetchall()
    except sqlcipher3.DatabaseError as e:
        raise Fatal(EXIT_FORMAT, f"attributes.db cannot be read ({e}): it is damaged")

    tags: dict[bytes, list[str]] = {}
    for item_id, tag_name in tag_rows:
        tags.setdefault(item_id, []).append(tag_name)

    items, problems = [], []
    for row in rows:
        (raw_id, parent, kind, name, size, created, modified, added, trashed, favorite,
         comment, content, hmac_tag, sha256) = row
        try:
            item_id = _uuid_text(raw_id, "id")
            if kind not in ("file", "folder"):
                raise ValueError(f"kind {kind!r} is unknown")
            expected_content = ("none",) if kind == "folder" else ("pending", "present", "missing")
            if content not in expected_content:
                raise ValueError(f"content state {content!r} is not one of a {kind}'s")
            if not _is_int(size) or size < 0 or (kind == "folder" and size != 0):
                raise ValueError("size is not valid")
            if not _is_int(added):
                raise ValueError("added_at is not a time")
            if favorite not in (0, 1) or not isinstance(comment, str) or not isinstance(name, str):
                raise ValueError("favorite, comment or name is not valid")
            item = Item(
                id=item_id,
                parent=None if parent is None else _uuid_text(parent, "parent"),
                kind=kind, name=name, size=size,
                created_at=_opt_int(created, "created_at"),
                modified_at=_opt_int(modified, "modified_at"),
                added_at=added, trashed_at=_opt_int(trashed, "trashed_at"),
                favorite=bool(favorite), comment=comment,
                tags=sorted(tags.get(raw_id, [])), content=content,
                hmac_tag=_digest(hmac_tag, "hmac_tag"), sha256=_digest(sha256, "sha256"))
            if content == "present" and (item.hmac_tag is None or item.sha256 is None):
                raise ValueError("a present file without hmac_tag and sha256")
        except ValueError as e:
            is_uuid = isinstance(raw_id, bytes) and len(raw_id) == 16
            label = str(uuid.UUID(bytes=raw_id)) if is_uuid else repr(raw_id)
            problems.append(Problem(f"item {label}", f"its database row is malformed: {e}"))
            continue
        items.append(item)

    # database.md, "content_replacements": a data file that does not end in items.hmac_tag
    # but in the tag of this item's replacement row holds the item's current content: the
    # row's size, modified_at, hmac_tag and sha256. A row whose tag the data file does not
    # carry never reached its rename and is ignored.
    by_id = {item.id: item for item in items}
    for raw_item, size, modified, hmac_tag, sha256 in replacement_rows:
        try:
            item = by_id.get(_uuid_text(raw_item, "item"))
            row_tag, row_sha = _digest(hmac_tag, "hmac_tag"), _digest(sha256, "sha256")
        except ValueError:
            continue
        if item is None or item.kind != "file" or row_tag is None or row_sha is None \
                or not _is_int(size) or size < 0 or not (modified is None or _is_int(modified)):
            continue
        tail = _read_tail(os.path.join(folder, item.data_relpath()))
        if tail is not None and tail != item.hmac_tag and hmac.compare_digest(tail, row_tag):
            item.size, item.modified_at = size, modified
            item.hmac_tag, item.sha256 = row_tag, row_sha
    return items, problems


def _read_tail(path: str) -> bytes | None:
    """The trailing 32 bytes (the HMAC tag) of a data file, or None if unreadable."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            if f.tell() < 32:
                return None
            f.seek(-32, os.SEEK_END)
            return f.read(32)
    except OSError:
        return None


# ------------------------------------------------------------------------------------------
# Reading a backup (backup.md)
# ------------------------------------------------------------------------------------------

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX64_RE = re.compile(r"[0-9a-f]{64}")
INT_RE = re.compile(r"-?[0-9]+")


class DocError(Exception):
    pass


class NewerDoc(DocError):
    pass


def _xml_string(element: ET.Element) -> str:
    """backup.md, "Strings": element text, or the lower-case hex of the UTF-8 bytes when
    encoding="utf-8-hex"; no other encoding exists in version 1."""
    encoding = element.get("encoding")
    text = element.text or ""
    if encoding is None:
        return text
    if encoding != "utf-8-hex":
        raise DocError(f"<{element.tag}> has the unknown encoding {encoding!r}")
    if not re.fullmatch(r"(?:[0-9a-f]{2})*", text):
        raise DocError(f"<{element.tag}> is not lower-case hex")
    try:
        return bytes.fromhex(text).decode("utf-8")
    except UnicodeDecodeError:
        raise DocError(f"<{element.tag}> is not UTF-8")


def _parse_xml(cleartext: bytes) -> ET.Element:
    if b"<!DOCTYPE" in cleartext or b"<!ENTITY" in cleartext:
        raise DocError("it declares a DOCTYPE or entities, which Arca never writes")
    try:
        return ET.fromstring(cleartext)
    except ET.ParseError as e:
        raise DocError(f"it is not well-formed XML ({e})")


def parse_item_document(cleartext: bytes) -> Item:
    """backup.md, "Item document": elements in any order; each at most once."""
    root = _parse_xml(cleartext)
    if root.tag != "item" or root.get("format") != "arca-backup-item":
        raise DocError("it is not an item document")
    version = root.get("version", "")
    if not INT_RE.fullmatch(version):
        raise DocError("its version is not a number")
    if int(version) > ITEM_DOC_VERSION:
        raise NewerDoc(f"item document version {version}: {NEWER}")
    elements: dict[str, ET.Element] = {}
    for child in root:
        if child.tag in elements:
            raise DocError(f"<{child.tag}> occurs twice")
        elements[child.tag] = child  # elements this reader does not know are ignored

    def required(tag: str) -> ET.Element:
        if tag not in elements:
            raise DocError(f"<{tag}> is missing")
        return elements[tag]

    def integer(tag: str, optional: bool) -> int | None:
        if tag not in elements and optional:
            return None
        text = (required(tag).text or "").strip()
        if not INT_RE.fullmatch(text):
            raise DocError(f"<{tag}> is not an integer")
        return int(text)

    def hex_uuid(tag: str) -> str:
        text = (required(tag).text or "").strip()
        if not UUID_RE.fullmatch(text):
            raise DocError(f"<{tag}> is not a lower-case hyphenated UUID")
        return text

    kind = (required("kind").text or "").strip()
    if kind not in ("file", "folder"):
        raise DocError(f"<kind> {kind!r} is unknown")
    favorite = (required("favorite").text or "").strip()
    if favorite not in ("true", "false"):
        raise DocError("<favorite> is neither true nor false")
    tags = []
    for tag_element in required("tags"):
        if tag_element.tag != "tag":
            raise DocError(f"<tags> holds <{tag_element.tag}>")
        tags.append(_xml_string(tag_element))
    digests = []
    for tag in ("hmac-tag", "sha256"):
        if tag in elements:
            text = (elements[tag].text or "").strip()
            if not HEX64_RE.fullmatch(text):
                raise DocError(f"<{tag}> is not 64 lower-case hex digits")
            digests.append(bytes.fromhex(text))
        else:
            digests.append(None)
    if (digests[0] is None) != (digests[1] is None):
        raise DocError("<hmac-tag> and <sha256> must occur together")
    if kind == "folder" and digests[0] is not None:
        raise DocError("a folder with <hmac-tag>")
    size = integer("size", False)
    if size < 0 or (kind == "folder" and size != 0):
        raise DocError("<size> is not valid")
    return Item(
        id=hex_uuid("uuid"),
        parent=hex_uuid("parent") if "parent" in elements else None,
        kind=kind, name=_xml_string(required("name")), size=size,
        created_at=integer("created", True), modified_at=integer("modified", True),
        added_at=integer("added", False), trashed_at=integer("trashed", True),
        favorite=favorite == "true", comment=_xml_string(required("comment")),
        tags=sorted(tags),
        # backup.md: a file without hmac-tag/sha256 had no content when it was backed up.
        content="none" if kind == "folder" else ("present" if digests[0] else "missing"),
        hmac_tag=digests[0], sha256=digests[1])


@dataclass
class IndexEntry:
    sha256: bytes
    name: str


def parse_index_document(cleartext: bytes) -> tuple[str | None, dict[str, IndexEntry]]:
    """backup.md, "Index": returns (state, entries by UUID)."""
    root = _parse_xml(cleartext)
    if root.tag != "index" or root.get("format") != "arca-backup-index":
        raise DocError("it is not an index document")
    version = root.get("version", "")
    if not INT_RE.fullmatch(version):
        raise DocError("its version is not a number")
    if int(version) > INDEX_DOC_VERSION:
        raise NewerDoc(f"index document version {version}: {NEWER}")
    state = root.get("state")
    if state not in (None, "complete", "running"):
        raise DocError(f"its state {state!r} is unknown")
    entries = {}
    for entry in root:
        if entry.tag != "entry":
            continue
        entry_uuid, digest = entry.get("uuid", ""), entry.get("sha256", "")
        if not UUID_RE.fullmatch(entry_uuid) or not HEX64_RE.fullmatch(digest.lower()):
            raise DocError("an entry has no valid uuid or sha256")
        name_element = entry.find("name")
        name = _xml_string(name_element) if name_element is not None else "?"
        entries[entry_uuid] = IndexEntry(bytes.fromhex(digest), name)
    return state, entries


def read_backup_items(folder: str, keys: Keys, manifest: Manifest
                      ) -> tuple[list[Item], list[Problem], list[str], dict[str, str]]:
    """Every item document of the backup, checked against the index (backup.md, "Index" and
    "Verify and restore"). Returns (items, problems, notes, the index's names by UUID)."""
    enc_key, hmac_key = keys.record_keys(manifest.version)
    problems: list[Problem] = []
    notes: list[str] = []

    # The index: its state says whether documents must match it.
    index_path = os.path.join(folder, "index.xml.crypt")
    entries: dict[str, IndexEntry] = {}
    running = True  # without a readable index, documents are read as found
    try:
        with open(index_path, "rb") as f:
            cleartext = open_key_message(f.read(), enc_key, hmac_key)
        if cleartext is None:
            problems.append(Problem("index.xml.crypt", "it is damaged (it does not "
                                    "authenticate); item documents are read as found"))
        else:
            try:
                state, entries = parse_index_document(cleartext)
            except NewerDoc as e:
                raise Fatal(EXIT_FORMAT, f"{index_path}: {e}")
            except DocError as e:
                problems.append(Problem("index.xml.crypt", f"it is damaged ({e}); item "
                                        "documents are read as found"))
            else:
                if state is None:  # format 1: backup.json's run times say it
                    running = manifest.index_running_by_times
                else:
                    running = state == "running"
                if running:
                    notes.append("the backup's last run did not complete: item documents "
                                 "are read as found")
    except FileNotFoundError:
        problems.append(Problem("index.xml.crypt", "it is missing; item documents are read "
                                "as found"))
    except OSError as e:
        problems.append(Problem("index.xml.crypt", f"it cannot be read ({e.strerror}); item "
                                "documents are read as found"))

    # The documents: items/XX/UUID.xml.crypt. Temporary and foreign files are ignored.
    items: list[Item] = []
    found: set[str] = set()
    items_dir = os.path.join(folder, "items")
    try:
        shards = sorted(os.listdir(items_dir))
    except FileNotFoundError:
        shards = []
    except OSError as e:
        raise Fatal(EXIT_IO, f"cannot read {items_dir}: {e.strerror}")
    for shard in shards:
        shard_dir = os.path.join(items_dir, shard)
        if not re.fullmatch(r"[0-9a-f]{2}", shard) or not os.path.isdir(shard_dir):
            continue
        try:
            names = sorted(os.listdir(shard_dir))
        except OSError as e:
            problems.append(Problem(f"items/{shard}", f"cannot be read ({e.strerror})"))
            continue
        for file_name in names:
            match = re.fullmatch(r"(" + UUID_RE.pattern + r")\.xml\.crypt", file_name)
            if not match or not file_name.startswith(shard):
                continue
            doc_id = match.group(1)
            entry = entries.get(doc_id)
            label = f"item {doc_id}" + (f" ({show(entry.name)!r} in the index)" if entry else "")
            if not running and entry is None:
                # "one without an entry does not belong to the backup"
                notes.append(f"ignored items/{shard}/{file_name}: not in the backup's index")
                continue
            found.add(doc_id)
            try:
                with open(os.path.join(shard_dir, file_name), "rb") as f:
                    cleartext = open_key_message(f.read(), enc_key, hmac_key)
            except OSError as e:
                problems.append(Problem(label, f"its item document cannot be read ({e.strerror})"))
                continue
            if cleartext is None:
                problems.append(Problem(label, "its item document is damaged (it does not "
                                               "authenticate)"))
                continue
            if not running and not hmac.compare_digest(hashlib.sha256(cleartext).digest(),
                                                       entry.sha256):
                problems.append(Problem(label, "its item document differs from the backup's "
                                               "index: it was altered (an older version?)"))
                continue
            try:
                item = parse_item_document(cleartext)
            except DocError as e:
                problems.append(Problem(label, f"its item document is not readable: {e}"))
                continue
            if item.id != doc_id:
                problems.append(Problem(label, f"its item document names another item "
                                               f"({item.id})"))
                continue
            items.append(item)
    for doc_id, entry in sorted(entries.items()):
        if doc_id not in found:
            problems.append(Problem(f"item {doc_id} ({show(entry.name)!r} in the index)",
                                    "its item document is missing from the backup"))
    return items, problems, notes, {doc_id: entry.name for doc_id, entry in entries.items()}


# ------------------------------------------------------------------------------------------
# The tree: paths and the trash (database.md, "items" and "The trash")
# ------------------------------------------------------------------------------------------

def sort_key(item: Item):
    # database.md, "Names": folders first, then files, each by name_key (the name in NFC).
    return (item.kind != "folder", unicodedata.normalize("NFC", item.name), item.name, item.id)


class Tree:
    """Items with their paths. An item is in the trash when it or any folder above it has
    trashed_at set. Items whose folder is not there (or that form a cycle) are orphans."""

    def __init__(self, items: list[Item]):
        self.by_id = {item.id: item for item in items}
        self.roots: list[Item] = []
        self.orphans: list[Item] = []
        for item in items:
            parent = self.by_id.get(item.parent) if item.parent else None
            if item.parent is None:
                self.roots.append(item)
            elif parent is None or parent.kind != "folder":
                self.orphans.append(item)
            else:
                parent.children.append(item)
        self.roots.sort(key=sort_key)
        for item in items:
            item.children.sort(key=sort_key)
        # Paths from the roots down (iteratively: no recursion limit on deep trees).
        reached = set()
        stack = [(root, "/" + root.name, root.trashed_at is not None) for root in self.roots]
        while stack:
            item, path, in_trash = stack.pop()
            item.path, item.in_trash = path, in_trash
            reached.add(item.id)
            for child in item.children:
                stack.append((child, path + "/" + child.name,
                              in_trash or child.trashed_at is not None))
        # Items in a cycle, and items inside an orphan, are never reached from a root either.
        orphan_ids = {item.id for item in self.orphans}
        for item in items:
            if item.id not in reached and item.id not in orphan_ids:
                self.orphans.append(item)
                orphan_ids.add(item.id)

    def walk(self, include_trash: bool) -> list[Item]:
        """Every reachable item in tree order (a folder before its contents)."""
        out: list[Item] = []
        stack = list(reversed(self.roots))
        while stack:
            item = stack.pop()
            if item.in_trash and not include_trash:
                continue
            out.append(item)
            stack.extend(reversed(item.children))
        return out


def orphan_problem(item: Item, index_names: dict[str, str]) -> Problem:
    folder = item.parent or "?"
    if item.parent in index_names:  # backup.md: the folder is named by its name in the index
        folder = f"{show(index_names[item.parent])!r} ({item.parent})"
    return Problem(f"{show(item.name)!r} ({item.id})",
                   f"not extracted: its folder {folder} is not readable (or not a folder), "
                   "so its place is unknown")


# ------------------------------------------------------------------------------------------
# Secrets
# ------------------------------------------------------------------------------------------

def read_secret(args) -> tuple[bytes, bool]:
    """The password (UTF-8 as typed) or the canonical recovery key, as bytes for PBKDF2."""
    recovery = args.recovery_key
    prompt = "Recovery key: " if recovery else "Safe Password: "
    if args.password_stdin:
        raw = sys.stdin.buffer.read()
        # "all of stdin, minus one trailing line break" ("\n" or "\r\n").
        if raw.endswith(b"\r\n"):
            raw = raw[:-2]
        elif raw.endswith(b"\n"):
            raw = raw[:-1]
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", getpass.GetPassWarning)
            try:
                typed = getpass.getpass(prompt)
            except getpass.GetPassWarning:
                raise Fatal(EXIT_USAGE, "no terminal to ask on: use --password-stdin")
            except EOFError:
                raise Fatal(EXIT_USAGE, "no password given")
        raw = typed.encode("utf-8", "surrogateescape")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Fatal(EXIT_USAGE, "the password is not UTF-8")
    if recovery:
        try:
            return normalise_recovery_key(text).encode("ascii"), True
        except RecoveryKeyTypo as e:
            raise Fatal(EXIT_USAGE, f"typo in the recovery key: {e}")
    if not raw:
        raise Fatal(EXIT_USAGE, "the password is empty")
    # key-file.md: the Safe Password exactly as typed (no trimming, no normalisation).
    return raw, False


# ------------------------------------------------------------------------------------------
# Loading a source
# ------------------------------------------------------------------------------------------

@dataclass
class Source:
    folder: str
    manifest: Manifest
    keys: Keys
    tree: Tree
    problems: list[Problem]
    notes: list[str]


def load_source(folder: str, manifest: Manifest, secret: bytes, recovery: bool) -> Source:
    keys = unlock(folder, manifest, secret, recovery)
    notes: list[str] = []
    index_names: dict[str, str] = {}
    if manifest.kind == "safe":
        items, problems = read_safe_items(folder, keys)
    else:
        items, problems, notes, index_names = read_backup_items(folder, keys, manifest)
    tree = Tree(items)
    for item in tree.orphans:
        problems.append(orphan_problem(item, index_names))
    return Source(folder, manifest, keys, tree, problems, notes)


# ------------------------------------------------------------------------------------------
# list
# ------------------------------------------------------------------------------------------

def _time_text(ns: int | None) -> str:
    if ns is None:
        return "-" * 19
    try:
        moment = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=ns // 1000)
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    except OverflowError:
        return str(ns)


def item_record(item: Item) -> dict:
    return {
        "path": item.path, "id": item.id, "kind": item.kind, "size": item.size,
        "created_at": item.created_at, "modified_at": item.modified_at,
        "added_at": item.added_at, "trashed_at": item.trashed_at, "in_trash": item.in_trash,
        "favorite": item.favorite, "comment": item.comment, "tags": list(item.tags),
        "sha256": item.sha256.hex() if item.sha256 is not None else None,
        "content": item.content,
    }


def command_list(source: Source, include_trash: bool, as_json: bool) -> int:
    items = source.tree.walk(include_trash)
    orphans = [o for o in source.tree.orphans if include_trash or o.trashed_at is None]
    if as_json:
        records = [item_record(item) for item in items + orphans]
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    else:
        for item in items + orphans:
            flags = []
            if item.in_trash:
                flags.append("in the trash")
            if item.kind == "file" and item.content != "present":
                flags.append(f"content {item.content}")
            if item.path is None:
                flags.append("place unknown")
            size = f"{item.size:>14,}" if item.kind == "file" else f"{'folder':>14}"
            path = show(item.path if item.path is not None else "?/" + item.name)
            if item.kind == "folder":
                path += "/"
            suffix = f"  [{', '.join(flags)}]" if flags else ""
            sys.stdout.write(f"{size}  {_time_text(item.modified_at)}  {path}{suffix}\n")
    for note in source.notes:
        sys.stderr.write(f"arca-exit: note: {note}\n")
    for problem in source.problems:
        sys.stderr.write(f"arca-exit: {problem.where}: {problem.reason}\n")
    return EXIT_ITEMS if source.problems else EXIT_OK


# ------------------------------------------------------------------------------------------
# extract
# ------------------------------------------------------------------------------------------

O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
O_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
FATAL_WRITE_ERRORS = {errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _exists_in(dir_fd: int, name: bytes) -> bool:
    try:
        os.lstat(name, dir_fd=dir_fd)
        return True
    except FileNotFoundError:
        return False


def place_no_replace(dir_fd: int, partial: bytes, final: bytes) -> None:
    """Give the complete partial file its final name, never replacing anything there (a
    planted file or symlink, or an item whose name equals another on this file system)."""
    try:
        os.link(partial, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    except FileExistsError:
        raise ItemProblem("a file or folder of the same name is already there (names that "
                          "this file system treats as equal?)")
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK,
                           errno.ENOSYS, errno.EXDEV, errno.EACCES):
            raise
        # A file system without hard links (FAT, some network shares): check, then rename.
        if _exists_in(dir_fd, final):
            raise ItemProblem("a file or folder of the same name is already there (names "
                              "that this file system treats as equal?)")
        os.rename(partial, final, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        return
    os.unlink(partial, dir_fd=dir_fd)


def set_times(fd: int, item: Item) -> None:
    """The modification time (and the access time, the same) from modified_at, in ns."""
    if item.modified_at is not None:
        os.utime(fd, ns=(item.modified_at, item.modified_at))


@dataclass
class Counts:
    files: int = 0
    bytes: int = 0
    folders: int = 0


class Extractor:
    def __init__(self, source: Source):
        self.source = source
        self.problems: list[Problem] = list(source.problems)
        self.notes: list[str] = list(source.notes)
        self.live = Counts()
        self.trash = Counts()

    # ---- one file ---------------------------------------------------------------------

    def extract_file(self, dir_fd: int, item: Item, final: bytes) -> None:
        """Verify the data file and write its cleartext under `final` in dir_fd.
        safe.md, "Data files": the tag must be the recorded one, the length must fit the
        size, the HMAC over the whole file must match (in constant time) before any decrypted
        byte is trusted; then the cleartext's length and SHA-256 must be the recorded ones.
        The cleartext goes to a temporary file that is renamed only once all of it checked."""
        if item.content == "pending":
            raise ItemProblem("not extracted: its import had not finished (content pending); "
                              "its source is still on the computer it was imported from")
        if item.content != "present" or item.hmac_tag is None or item.sha256 is None:
            raise ItemProblem("not extracted: it has no content (recorded as missing or "
                              "damaged when the Safe was checked or backed up)")
        data_path = os.path.join(self.source.folder, item.data_relpath())
        try:
            src = open(data_path, "rb", buffering=0)
        except FileNotFoundError:
            raise ItemProblem(f"its data file {item.data_relpath()} is missing")
        except OSError as e:
            raise ItemProblem(f"its data file cannot be read ({e.strerror})")
        with src:
            info = os.fstat(src.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ItemProblem("its data file is not a regular file")
            length = info.st_size
            if length < 66 or (length - 50) % 16 != 0:
                raise ItemProblem(f"its data file is truncated or damaged ({length} bytes is "
                                  "not the length of an RNCryptor v3 message)")
            header = src.read(18)
            if header[:2] != b"\x03\x00":
                raise ItemProblem("its data file is not an RNCryptor v3 key-based message")
            src.seek(length - 32)
            tag = src.read(32)
            # safe.md / database.md: a data file ending in another tag is an older version
            # or another item's file; content_replacements was applied when reading the Safe.
            if not hmac.compare_digest(tag, item.hmac_tag):
                raise ItemProblem("its data file does not end in the recorded HMAC tag: it is "
                                  "an older version, another item's data file, or damaged")
            if length != data_file_length(item.size):
                raise ItemProblem(f"its data file has {length} bytes where "
                                  f"{data_file_length(item.size)} are expected: truncated or "
                                  "damaged")
            # Pass 1: the HMAC over version, options, IV and ciphertext.
            mac = hmac.new(self.source.keys.file_hmac, digestmod=hashlib.sha256)
            for chunk in _read_range(src, 0, length - 32):
                mac.update(chunk)
            if not hmac.compare_digest(mac.digest(), tag):
                raise ItemProblem("its data file is damaged or was tampered with (the HMAC "
                                  "does not match)")
            # Pass 2: decrypt into the partial file, hashing on the way.
            self._decrypt_into(src, header[2:18], length, dir_fd, item, final)

    def _decrypt_into(self, src, iv: bytes, length: int, dir_fd: int, item: Item,
                      final: bytes) -> None:
        partial = f".{item.id}{PARTIAL_SUFFIX}".encode()
        try:
            out_fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                             0o600, dir_fd=dir_fd)
        except OSError as e:
            self._write_error(e, "cannot create its temporary file")
        try:
            with os.fdopen(out_fd, "wb") as out:
                decryptor = Cipher(algorithms.AES(self.source.keys.file_enc),
                                   modes.CBC(iv)).decryptor()
                unpadder = padding.PKCS7(128).unpadder()
                digest = hashlib.sha256()
                written = 0
                for chunk in _read_range(src, 18, length - 32):
                    plain = unpadder.update(decryptor.update(chunk))
                    out.write(plain)
                    digest.update(plain)
                    written += len(plain)
                try:
                    plain = unpadder.update(decryptor.finalize()) + unpadder.finalize()
                except ValueError:
                    raise ItemProblem("its data file authenticates but its padding is wrong")
                out.write(plain)
                digest.update(plain)
                written += len(plain)
                if written != item.size:
                    raise ItemProblem(f"its content has {written} bytes, {item.size} recorded")
                if not hmac.compare_digest(digest.digest(), item.sha256):
                    raise ItemProblem("its content's SHA-256 is not the recorded one")
                out.flush()
                os.fsync(out.fileno())
                set_times(out.fileno(), item)
            place_no_replace(dir_fd, partial, final)
        except BaseException as e:
            try:
                os.unlink(partial, dir_fd=dir_fd)
            except OSError:
                pass
            if isinstance(e, OSError):
                self._write_error(e, "cannot write it")
            raise

    def _write_error(self, e: OSError, what: str):
        if e.errno in FATAL_WRITE_ERRORS:
            raise DiskProblem(f"{what}: {e.strerror}")
        raise ItemProblem(f"{what} ({e.strerror})")

    # ---- a tree of items --------------------------------------------------------------

    @staticmethod
    def where(item: Item) -> str:
        where = show(item.path if item.path is not None else item.name)
        return where + " (in the trash)" if item.in_trash else where

    def fail(self, item: Item, reason: str, children_of) -> None:
        """Report an item that was not extracted, and everything below it (not extracted
        either: its folder is not there)."""
        self.problems.append(Problem(self.where(item), reason))
        if item.kind == "folder":
            stack = list(children_of(item))
            while stack:
                child = stack.pop()
                self.problems.append(Problem(
                    self.where(child),
                    f"not extracted: its folder {self.where(item)} was not extracted"))
                stack.extend(children_of(child))

    def extract_forest(self, root_fd: int, top: list[Item], children_of, counts: "Counts",
                       in_trash_pass: bool = False) -> None:
        """Write `top` and, below each folder, children_of(folder), into root_fd. Every name
        is checked against the name rule and joined as one component, relative to an open
        folder descriptor: nothing can land outside root_fd, and no symlink is followed."""
        # Each frame: [folder fd, folder item (None for root_fd), iterator over children].
        stack = [[root_fd, None, iter(top)]]
        while stack:
            frame = stack[-1]
            item = next(frame[2], None)
            if item is None:
                stack.pop()
                if frame[1] is not None:
                    try:
                        set_times(frame[0], frame[1])  # after its contents were written
                        os.fsync(frame[0])
                    except OSError as e:
                        self.problems.append(Problem(self.where(frame[1]), "could not set its "
                                                     f"modification time ({e.strerror})"))
                    finally:
                        os.close(frame[0])
                continue
            dir_fd = frame[0]
            problem = name_problem(item.name)
            if problem:
                self.fail(item, f"not extracted: its name {problem} (safe.md, the name rule)",
                          children_of)
                continue
            name = item.name.encode("utf-8")
            if in_trash_pass:
                name = self._free_name(dir_fd, item)
                if name is None:
                    self.fail(item, "not extracted: no free name for it", children_of)
                    continue
            try:
                if item.kind == "folder":
                    try:
                        os.mkdir(name, 0o700, dir_fd=dir_fd)
                    except FileExistsError:
                        raise ItemProblem("a file or folder of the same name is already "
                                          "there (names that this file system treats as "
                                          "equal?)")
                    except OSError as e:
                        self._write_error(e, "cannot create the folder")
                    try:
                        fd = os.open(name, os.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                                     dir_fd=dir_fd)
                    except OSError as e:
                        raise ItemProblem(f"cannot open the folder just made ({e.strerror})")
                    if item.in_trash == in_trash_pass:
                        counts.folders += 1
                    stack.append([fd, item, iter(children_of(item))])
                else:
                    self.extract_file(dir_fd, item, name)
                    counts.files += 1
                    counts.bytes += item.size
            except ItemProblem as e:
                self.fail(item, str(e), children_of)
            except OSError as e:  # reading the Safe or the backup
                self.fail(item, f"not extracted: input/output error ({e.strerror})", children_of)

    def _free_name(self, dir_fd: int, item: Item) -> bytes | None:
        """In the trash, two items may share a name (only live names are unique in a folder:
        database.md, "Names"): the second is extracted as "name (2).ext"."""
        name = item.name.encode("utf-8")
        if not _exists_in(dir_fd, name):
            return name
        stem, dot, ext = item.name.rpartition(".")
        if item.kind == "folder" or not stem:
            stem, dot, ext = item.name, "", ""
        for n in range(2, 10000):
            candidate = f"{stem} ({n}){dot}{ext}"
            if name_problem(candidate) is None and \
                    not _exists_in(dir_fd, candidate.encode("utf-8")):
                self.notes.append(f"{self.where(item)} was extracted as {show(candidate)!r} "
                                  "into the trash folder: its name was taken there")
                return candidate.encode("utf-8")
        return None

    def run(self, out_fd: int, trash_fd: int | None) -> None:
        tree = self.source.tree

        def live_children(item: Item) -> list[Item]:
            return [child for child in item.children if child.trashed_at is None]

        self.extract_forest(out_fd, [r for r in tree.roots if r.trashed_at is None],
                            live_children, self.live)
        # Orphans cannot be placed: each was reported when the source was read.
        if trash_fd is None:
            return
        # The trash: each trashed item with its subtree, at its original path inside DIR;
        # the live folders on the way there are made too (with their times) to hold them,
        # but are not counted.
        containers: set[str] = set()
        for item in tree.walk(include_trash=True):
            if item.trashed_at is not None and item.parent is not None:
                parent = tree.by_id.get(item.parent)
                while parent is not None and not parent.in_trash and parent.id not in containers:
                    containers.add(parent.id)
                    parent = tree.by_id.get(parent.parent) if parent.parent else None

        def trash_children(item: Item) -> list[Item]:
            if item.in_trash:
                return list(item.children)
            return [c for c in item.children if c.trashed_at is not None or c.id in containers]

        top = [r for r in tree.roots if r.trashed_at is not None or r.id in containers]
        self.extract_forest(trash_fd, top, trash_children, self.trash, in_trash_pass=True)


def _read_range(src, start: int, end: int):
    src.seek(start)
    remaining = end - start
    while remaining > 0:
        chunk = src.read(min(CHUNK, remaining))
        if not chunk:
            raise ItemProblem("its data file became shorter while it was read")
        remaining -= len(chunk)
        yield chunk


def prepare_output(path: str, what: str) -> None:
    """OUT must not exist or be an empty folder (checked before the password is asked)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as e:
        raise Fatal(EXIT_IO, f"{what} {path}: {e.strerror}")
    if not stat.S_ISDIR(info.st_mode):
        raise Fatal(EXIT_IO, f"{what} {path} exists and is not a folder")
    try:
        if os.listdir(path):
            raise Fatal(EXIT_IO, f"{what} {path} is not empty: give a new or empty folder")
    except OSError as e:
        raise Fatal(EXIT_IO, f"{what} {path}: {e.strerror}")


def open_output(path: str, what: str) -> int:
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if os.listdir(fd):
            os.close(fd)
            raise Fatal(EXIT_IO, f"{what} {path} is not empty: give a new or empty folder")
        return fd
    except OSError as e:
        raise Fatal(EXIT_IO, f"cannot make {what} {path}: {e.strerror}")


def plural(n: int, word: str, spec: str = "") -> str:
    return f"{n:{spec}} {word}{'' if n == 1 else 's'}"


def _inside(child: str, parent: str) -> bool:
    child, parent = os.path.realpath(child), os.path.realpath(parent)
    return child == parent or child.startswith(parent.rstrip(os.sep) + os.sep)


def command_extract(source: Source, out: str, trash_into: str | None) -> int:
    out_fd = open_output(out, "OUT")
    trash_fd = open_output(trash_into, "--trash-into") if trash_into else None
    extractor = Extractor(source)
    try:
        extractor.run(out_fd, trash_fd)
    except DiskProblem as e:
        raise Fatal(EXIT_IO, f"cannot write into {out}: {e}")
    finally:
        for fd in (out_fd, trash_fd):
            if fd is not None:
                try:
                    os.fsync(fd)
                except OSError:
                    pass
                os.close(fd)
    for note in extractor.notes:
        sys.stderr.write(f"arca-exit: note: {note}\n")
    for problem in extractor.problems:
        sys.stderr.write(f"arca-exit: {problem.where}: {problem.reason}\n")
    count = len(extractor.problems)
    live, trash = extractor.live, extractor.trash
    sys.stdout.write(f"{out}: {plural(live.files, 'file')} ({plural(live.bytes, 'byte', ',')}), "
                     f"{plural(live.folders, 'folder')}, {plural(count, 'problem')}\n")
    if trash_into:
        sys.stdout.write(f"{trash_into} (the trash): {plural(trash.files, 'file')} "
                         f"({plural(trash.bytes, 'byte', ',')}), "
                         f"{plural(trash.folders, 'folder')}\n")
    return EXIT_ITEMS if count else EXIT_OK


# ------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------

class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        self.exit(EXIT_USAGE, f"arca-exit: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="arca-exit.py", description="Read an Arca Safe or backup without Arca.",
                    epilog="Exit status: 0 done; 1 some items not extracted (each named); 2 "
                           "usage or mistyped recovery key; 3 wrong password or recovery key; "
                           "4 not a Safe or backup, damaged, or newer; 5 input/output error.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def common(sub):
        sub.add_argument("source", metavar="SOURCE",
                         help="a Safe folder (holds safe.json) or a backup folder (backup.json)")
        sub.add_argument("--password-stdin", action="store_true",
                         help="read the password (or recovery key) from standard input: all "
                              "of it, minus one trailing line break")
        sub.add_argument("--recovery-key", action="store_true",
                         help="unlock with the recovery key instead of the Safe Password")

    listing = commands.add_parser("list", help="list every item with its path")
    common(listing)
    listing.add_argument("--trash", action="store_true", help="include the trash (marked)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    extract = commands.add_parser("extract", help="write every live item into OUT")
    common(extract)
    extract.add_argument("out", metavar="OUT", help="a new or empty folder")
    extract.add_argument("--trash-into", metavar="DIR",
                         help="also extract the trash into DIR (a new or empty folder)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        sys.stdout.reconfigure(errors="backslashreplace")
        if args.command == "extract":
            needed = {os.open, os.mkdir, os.rename, os.unlink, os.stat, os.link}
            if not needed <= os.supports_dir_fd:
                raise Fatal(EXIT_USAGE, "extract needs a POSIX system (Linux, macOS); "
                                        "list works here")
            for path, what in ((args.out, "OUT"), (args.trash_into, "--trash-into")):
                if path and _inside(path, args.source):
                    raise Fatal(EXIT_USAGE, f"{what} must not be inside SOURCE")
            if args.trash_into and (_inside(args.trash_into, args.out)
                                    or _inside(args.out, args.trash_into)):
                raise Fatal(EXIT_USAGE, "--trash-into and OUT must be separate folders")
        manifest = detect_source(args.source)
        if args.command == "extract":
            prepare_output(args.out, "OUT")
            if args.trash_into:
                prepare_output(args.trash_into, "--trash-into")
        secret, recovery = read_secret(args)
        source = load_source(args.source, manifest, secret, recovery)
        if args.command == "list":
            return command_list(source, args.trash, args.json)
        return command_extract(source, args.out, args.trash_into)
    except Fatal as e:
        sys.stderr.write(f"arca-exit: {e.message}\n")
        return e.code
    except KeyboardInterrupt:
        sys.stderr.write("arca-exit: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_IO


if __name__ == "__main__":
    sys.exit(main())
