#!/usr/bin/env python3
"""Tests of docs/exit/arca-exit.py, the reader of Safes and backups written without Arca's code.

    ARCA=target/debug/arca python tests/exit/test_exit.py      (or tests/exit/run)

Needs the `cryptography` and `sqlcipher3` packages (docs/exit/requirements.txt) and the arca
command line (for fresh Safes and backups). Every unlock costs two PBKDF2 derivations of
1,000,000 iterations, so each class unlocks in setUpClass and its tests share the results.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXIT_SCRIPT = ROOT / "docs" / "exit" / "arca-exit.py"
FROZEN = ROOT / "fixtures" / "frozen"
ARCA = os.environ.get("ARCA") or str(ROOT / "target" / "debug" / "arca")
PASSWORD = "correct horse battery staple 42"
PARTIAL = b".arca-exit-partial"


def load_module():
    spec = importlib.util.spec_from_file_location("arca_exit", EXIT_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["arca_exit"] = module  # dataclasses look their module up there
    sys.dont_write_bytecode = True  # no __pycache__ in docs/exit
    spec.loader.exec_module(module)
    return module


ae = load_module()


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------

def run_exit(*args, secret: str | None = None, stdin: bytes | None = None):
    """Run arca-exit; the secret goes to stdin with --password-stdin."""
    argv = [sys.executable, str(EXIT_SCRIPT), *map(str, args)]
    if secret is not None:
        argv.append("--password-stdin")
        stdin = secret.encode("utf-8")
    result = subprocess.run(argv, input=stdin if stdin is not None else b"",
                            capture_output=True, timeout=600)
    result.out = result.stdout.decode("utf-8", "replace")
    result.err = result.stderr.decode("utf-8", "replace")
    return result


def run_arca(*args, secret: str = PASSWORD, check: bool = True):
    result = subprocess.run([ARCA, *map(str, args), "--password-stdin"],
                            input=secret.encode(), capture_output=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"arca {' '.join(map(str, args))} failed ({result.returncode}): "
                             f"{result.stderr.decode(errors='replace')}")
    return result


def snapshot(root: Path) -> dict[bytes, tuple[str, os.stat_result]]:
    """Every entry below root, by relative path as bytes (names exactly as on disk), with its
    kind and lstat, taken before anything reads the files (the access time is checked)."""
    out = {}
    base = os.fsencode(root)
    for dirpath, dirnames, filenames in os.walk(base):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            info = os.lstat(full)
            kind = ("link" if os.path.islink(full) else "folder" if os.path.isdir(full)
                    else "file")
            out[os.path.relpath(full, base)] = (kind, info)
    return out


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def rel(path: str) -> bytes:
    """"/a/b" (a Safe path) as the relative path bytes it must have on disk."""
    return path.lstrip("/").encode("utf-8")


def fs_keeps_nanoseconds(folder: Path) -> bool:
    probe = folder / ".ns-probe"
    probe.write_bytes(b"")
    os.utime(probe, ns=(1_000_000_123_456_789, 1_000_000_123_456_789))
    kept = os.stat(probe).st_mtime_ns == 1_000_000_123_456_789
    probe.unlink()
    return kept


def encrypt_data_file(enc_key: bytes, hmac_key: bytes, plaintext: bytes) -> bytes:
    """An RNCryptor v3 key-based message, as Arca writes a data file (for forged content)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    iv = os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    body = b"\x03\x00" + iv + encryptor.update(padded) + encryptor.finalize()
    return body + hmac.new(hmac_key, body, hashlib.sha256).digest()


def seal_password_message(password: bytes, iterations: int, plaintext: bytes) -> bytes:
    """An RNCryptor v3 password-based message (a key file)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    enc_salt, hmac_salt, iv = os.urandom(8), os.urandom(8), os.urandom(16)
    enc_key = hashlib.pbkdf2_hmac("sha1", password, enc_salt, iterations, 32)
    hmac_key = hashlib.pbkdf2_hmac("sha1", password, hmac_salt, iterations, 32)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    body = b"\x03\x01" + enc_salt + hmac_salt + iv + encryptor.update(padded) + encryptor.finalize()
    return body + hmac.new(hmac_key, body, hashlib.sha256).digest()


def open_db(safe: Path, keys):
    import sqlcipher3
    con = sqlcipher3.connect(str(safe / "attributes.db"), isolation_level=None)
    con.execute(f"PRAGMA key = \"x'{keys.database.hex()}'\"")
    return con


def messy(recovery_key: str) -> str:
    """The recovery key as someone might type it: lower case, spaces for dashes, 1 as l,
    0 as O (key-file.md: all of these are read back)."""
    return recovery_key.lower().replace("-", " ").replace("1", "l").replace("0", "O")


class ExitAssertions(unittest.TestCase):
    def assertOneLineError(self, result, code: int, *words: str):
        self.assertEqual(result.returncode, code, result.err)
        self.assertNotIn("Traceback", result.err)
        lines = result.err.strip().splitlines()
        self.assertEqual(len(lines), 1, result.err)
        for word in words:
            self.assertIn(word.lower(), lines[0].lower())

    def assertNoPartials(self, root: Path):
        for relpath in snapshot(root):
            self.assertFalse(relpath.endswith(PARTIAL), relpath)


# ------------------------------------------------------------------------------------------
# The frozen fixtures: every Safe and backup an Arca release wrote
# ------------------------------------------------------------------------------------------

class FrozenFixture(ExitAssertions):
    """One folder of fixtures/frozen: its Safe and its backup, listed and extracted with the
    password and with the recovery key (typed carelessly), with and without the trash."""

    fixture: Path = None
    SOURCES = ("Holiday.arca", "Holiday-backup")

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="arca-exit-frozen-"))
        cls.expected = json.loads((cls.fixture / "expected.json").read_text("utf-8"))
        cls.items = {item["path"]: item for item in cls.expected["items"]}
        cls.ns = fs_keeps_nanoseconds(cls.tmp)
        password, recovery = cls.expected["password"], cls.expected["recovery_key"]
        cls.runs, cls.snaps, cls.before, cls.after = {}, {}, {}, {}
        for source in cls.SOURCES:
            src = cls.tmp / source
            shutil.copytree(cls.fixture / source, src)
            cls.before[source] = {p: (k, i.st_size, i.st_mtime_ns) for p, (k, i)
                                  in snapshot(src).items()}
            runs = cls.runs[source] = {}
            runs["list"] = run_exit("list", src, "--trash", "--json", secret=password)
            runs["list-live"] = run_exit("list", src, secret=password)
            out = cls.tmp / f"{source}.password"
            runs["password"] = run_exit("extract", src, out, secret=password)
            cls.snaps[(source, "password")] = snapshot(out)
            out, trash = cls.tmp / f"{source}.recovery", cls.tmp / f"{source}.trash"
            runs["recovery"] = run_exit("extract", src, out, "--trash-into", trash,
                                        "--recovery-key", secret=messy(recovery))
            cls.snaps[(source, "recovery")] = snapshot(out)
            cls.snaps[(source, "trash")] = snapshot(trash)
            cls.after[source] = {p: (k, i.st_size, i.st_mtime_ns) for p, (k, i)
                                 in snapshot(src).items()}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def in_trash(self, path: str) -> bool:
        parts = path.split("/")
        return any(self.items["/".join(parts[:i])]["trashed_at"] is not None
                   for i in range(2, len(parts) + 1))

    def check_tree(self, snap: dict, out: Path, expected_paths: list[str]):
        """The extracted tree holds exactly these items, with their exact name bytes, kinds,
        contents and modification (and access) times."""
        self.assertEqual(sorted(snap), sorted(rel(p) for p in expected_paths))
        for path in expected_paths:
            item = self.items[path]
            kind, info = snap[rel(path)]
            self.assertEqual(kind, item["kind"], path)
            if self.ns:
                self.assertEqual(info.st_mtime_ns, item["modified_at"], path)
            else:
                self.assertEqual(info.st_mtime_ns // 10**9, item["modified_at"] // 10**9, path)
            if kind == "file":
                self.assertEqual(info.st_atime_ns, info.st_mtime_ns, path)
                self.assertEqual(info.st_size, item["size"], path)
                self.assertEqual(sha256_of(out / path.lstrip("/")), item["sha256"], path)

    def test_list_equals_expected(self):
        for source in self.SOURCES:
            with self.subTest(source=source):
                result = self.runs[source]["list"]
                self.assertEqual(result.returncode, 0, result.err)
                listed = {entry["id"]: entry for entry in json.loads(result.out)}
                self.assertEqual(len(listed), len(self.expected["items"]))
                for item in self.expected["items"]:
                    entry = listed[item["id"]]
                    for key, value in item.items():
                        self.assertEqual(entry[key], value, f"{item['path']}: {key}")
                    if item["kind"] == "folder":
                        self.assertIsNone(entry["sha256"])
                        self.assertEqual(entry["content"], "none")
                    else:
                        self.assertEqual(entry["content"], "present")
                    self.assertEqual(entry["in_trash"], self.in_trash(item["path"]), item["path"])

    def test_list_without_trash_leaves_the_trash_out(self):
        for source in self.SOURCES:
            with self.subTest(source=source):
                result = self.runs[source]["list-live"]
                self.assertEqual(result.returncode, 0, result.err)
                for path in self.items:
                    shown = path + ("/" if self.items[path]["kind"] == "folder" else "")
                    listed = any(line.endswith("  " + shown) for line in result.out.splitlines())
                    self.assertEqual(listed, not self.in_trash(path), path)

    def test_extract_with_password(self):
        live = [p for p in self.items if not self.in_trash(p)]
        for source in self.SOURCES:
            with self.subTest(source=source):
                result = self.runs[source]["password"]
                self.assertEqual(result.returncode, 0, result.err)
                self.assertEqual(result.err, "")
                files = sum(1 for p in live if self.items[p]["kind"] == "file")
                folders = len(live) - files
                self.assertIn(f"{files} files", result.out)
                self.assertIn(f"{folders} folders, 0 problems", result.out)
                self.check_tree(self.snaps[(source, "password")],
                                self.tmp / f"{source}.password", live)

    def test_extract_with_recovery_key_and_the_trash(self):
        live = [p for p in self.items if not self.in_trash(p)]
        trashed = [p for p in self.items if self.in_trash(p)]
        self.assertTrue(trashed, "the fixture has items in the trash")
        for source in self.SOURCES:
            with self.subTest(source=source):
                result = self.runs[source]["recovery"]
                self.assertEqual(result.returncode, 0, result.err)
                self.check_tree(self.snaps[(source, "recovery")],
                                self.tmp / f"{source}.recovery", live)
                # The trashed items with their subtrees, at their paths (their folders are
                # at the root here, so nothing else is needed to hold them).
                self.check_tree(self.snaps[(source, "trash")], self.tmp / f"{source}.trash",
                                trashed)

    def test_decomposed_name_kept_as_stored(self):
        nfd = [p for p in self.items if "e\u0301" in p]
        self.assertTrue(nfd, "the fixture has a name in decomposed Unicode")
        for source in self.SOURCES:
            for path in nfd:
                self.assertIn(rel(path), self.snaps[(source, "password")])
                self.assertNotIn(rel(path.replace("e\u0301", "\u00e9")),
                                 self.snaps[(source, "password")])

    def test_source_left_untouched(self):
        for source in self.SOURCES:
            self.assertEqual(self.before[source], self.after[source], source)


for _folder in sorted(FROZEN.iterdir()) if FROZEN.is_dir() else []:
    if (_folder / "expected.json").is_file():
        _name = "TestFrozen_" + "".join(c if c.isalnum() else "_" for c in _folder.name)
        globals()[_name] = type(_name, (FrozenFixture,), {"fixture": _folder})
del FrozenFixture  # only its subclasses run


# ------------------------------------------------------------------------------------------
# A Safe and a backup the current Arca just wrote, against the files put in and arca export
# ------------------------------------------------------------------------------------------

class TestFreshSafe(ExitAssertions):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="arca-exit-fresh-"))
        cls.ns = fs_keeps_nanoseconds(cls.tmp)
        src = cls.src = cls.tmp / "src"
        shutil.copytree(ROOT / "fixtures" / "demo" / "samples", src / "samples")
        rng = random.Random(42)
        (src / "zero bytes").write_bytes(b"")
        (src / "sixteen").write_bytes(bytes(rng.getrandbits(8) for _ in range(16)))
        (src / "Über ordner" / "sub dir").mkdir(parents=True)
        (src / "Über ordner" / "sub dir" / "big ✓ 3 MiB + 5.bin").write_bytes(
            rng.randbytes(3 * 1024 * 1024 + 5))
        (src / "name with spaces, Zoë & 日本.txt").write_text("hello\n", "utf-8")
        (src / "Cafe\u0301 decomposed.md").write_text("# Café\n", "utf-8")
        (src / "an empty folder").mkdir()
        # Times: one before 1970, sub-second ones, a folder's own (set after its contents).
        os.utime(src / "sixteen", ns=(-14182940_123456789, -14182940_123456789))
        os.utime(src / "zero bytes", ns=(1_234_567_890_987_654_321, 1_234_567_890_987_654_321))
        os.utime(src / "Über ordner" / "sub dir", ns=(1_582_979_696_987_654_321,) * 2)
        os.utime(src / "an empty folder", ns=(1_600_000_000_500_000_000,) * 2)
        cls.source_snap = snapshot(src)

        cls.safe, cls.backup = cls.tmp / "S", cls.tmp / "B"
        run_arca("create", cls.safe)
        run_arca("import", cls.safe, *sorted(src.iterdir()))
        run_arca("backup", cls.safe, cls.backup)
        cls.exported = cls.tmp / "exported"
        run_arca("export", cls.safe, "/", "--to", cls.exported)
        cls.export_snap = snapshot(cls.exported)
        cls.results, cls.snaps = {}, {}
        for name, source in (("safe", cls.safe), ("backup", cls.backup)):
            out = cls.tmp / f"out-{name}"
            cls.results[name] = run_exit("extract", source, out, secret=PASSWORD)
            cls.snaps[name] = snapshot(out)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def same_time(self, a: int, b: int, what):
        if self.ns:
            self.assertEqual(a, b, what)
        else:
            self.assertEqual(a // 10**9, b // 10**9, what)

    def test_extract_equals_the_files_put_in(self):
        for name in ("safe", "backup"):
            with self.subTest(source=name):
                result = self.results[name]
                self.assertEqual(result.returncode, 0, result.err)
                self.assertIn("0 problems", result.out)
                snap, out = self.snaps[name], self.tmp / f"out-{name}"
                self.assertEqual(sorted(snap), sorted(self.source_snap))
                for path, (kind, info) in self.source_snap.items():
                    got_kind, got = snap[path]
                    self.assertEqual(got_kind, kind, path)
                    self.same_time(got.st_mtime_ns, info.st_mtime_ns, path)
                    if kind == "file":
                        self.same_time(got.st_atime_ns, info.st_mtime_ns, path)
                        self.assertEqual(sha256_of(out / os.fsdecode(path)),
                                         sha256_of(self.src / os.fsdecode(path)), path)

    def test_extract_equals_arca_export(self):
        # arca export gives files their times (it leaves folders at the time of the export).
        for name in ("safe", "backup"):
            with self.subTest(source=name):
                snap, out = self.snaps[name], self.tmp / f"out-{name}"
                self.assertEqual(sorted(snap), sorted(self.export_snap))
                for path, (kind, info) in self.export_snap.items():
                    self.assertEqual(snap[path][0], kind, path)
                    if kind == "file":
                        self.same_time(snap[path][1].st_mtime_ns, info.st_mtime_ns, path)
                        with open(out / os.fsdecode(path), "rb") as a, \
                                open(self.exported / os.fsdecode(path), "rb") as b:
                            self.assertEqual(a.read(), b.read(), path)

    def test_sizes_at_the_edges(self):
        sizes = {os.fsdecode(p): i.st_size for p, (k, i) in self.snaps["safe"].items()
                 if k == "file"}
        self.assertEqual(sizes["zero bytes"], 0)
        self.assertEqual(sizes["sixteen"], 16)
        self.assertEqual(sizes["Über ordner/sub dir/big ✓ 3 MiB + 5.bin"], 3 * 1024 * 1024 + 5)


# ------------------------------------------------------------------------------------------
# Damage, tampering, hostile input and wrong secrets
# ------------------------------------------------------------------------------------------

class TestAttacks(ExitAssertions):
    """A small Safe (and its backup) made once; each test damages its own copy."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="arca-exit-attacks-"))
        src = cls.tmp / "src"
        (src / "folder").mkdir(parents=True)
        rng = random.Random(7)
        cls.contents = {
            "/a.txt": b"alpha " * 20,
            "/b.bin": rng.randbytes(5000),
            "/c.dat": rng.randbytes(64),
            "/d.dat": rng.randbytes(64),
            "/big.bin": rng.randbytes(2 * 1024 * 1024 + 3),
            "/folder/inner.txt": b"inside a folder\n",
        }
        for path, data in cls.contents.items():
            (src / path.lstrip("/")).write_bytes(data)
        dup = cls.tmp / "dup"
        dup.mkdir()
        cls.safe, cls.backup = cls.tmp / "S", cls.tmp / "B"
        run_arca("create", cls.safe)
        run_arca("import", cls.safe, *sorted(src.iterdir()))
        # Two items of the same name in the trash.
        for version in (b"first dup\n", b"second dup\n"):
            (dup / "dup.txt").write_bytes(version)
            run_arca("import", cls.safe, dup / "dup.txt")
            run_arca("rm", cls.safe, "/dup.txt")
        recovery = run_arca("recovery", "create", cls.safe).stdout.decode()
        cls.recovery_key = next(word for word in recovery.split()
                                if len(word) == 35 and word.count("-") == 5)
        run_arca("backup", cls.safe, cls.backup)
        # The keys, for the tests that change the database as only the key holder can.
        manifest = ae.read_safe_manifest(str(cls.safe))
        cls.source = ae.load_source(str(cls.safe), manifest, PASSWORD.encode(), False)
        cls.keys = cls.source.keys
        cls.ids = {item.path: item.id for item in cls.source.tree.walk(True)}
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def case(self, what: str = "S") -> Path:
        """A fresh copy of the Safe (or the backup) in its own folder."""
        type(self).n += 1
        folder = self.tmp / f"case{self.n}"
        folder.mkdir()
        shutil.copytree(self.safe if what == "S" else self.backup, folder / what)
        return folder

    def data_file(self, root: Path, path: str) -> Path:
        item_id = self.ids[path]
        return root / "files" / item_id[:2] / f"{item_id}.data.crypt"

    def extract(self, source: Path, *more, secret=PASSWORD):
        out = source.parent / "out"
        return out, run_exit("extract", source, out, *more, secret=secret)

    def assertExtracted(self, out: Path, paths):
        for path in paths:
            self.assertEqual((out / path.lstrip("/")).read_bytes(), self.contents[path], path)

    def assertReported(self, result, path: str, *words: str):
        lines = [line for line in result.err.splitlines() if f" {path}:" in line]
        self.assertEqual(len(lines), 1, result.err)
        for word in words:
            self.assertIn(word, lines[0])

    # ---- data files ---------------------------------------------------------------------

    def test_flipped_byte_is_refused_and_others_extracted(self):
        for where in ("S", "B"):
            with self.subTest(source=where):
                case = self.case(where)
                data = self.data_file(case / where, "/big.bin")
                raw = bytearray(data.read_bytes())
                raw[len(raw) // 2] ^= 0x01
                data.write_bytes(raw)
                out, result = self.extract(case / where)
                self.assertEqual(result.returncode, 1, result.err)
                self.assertNotIn("Traceback", result.err)
                self.assertReported(result, "/big.bin", "HMAC")
                self.assertFalse((out / "big.bin").exists())
                self.assertNoPartials(out)
                self.assertExtracted(out, [p for p in self.contents if p != "/big.bin"])
                self.assertIn("1 problem", result.out)

    def test_swapped_data_files_are_refused(self):
        case = self.case()
        safe = case / "S"
        a, b = self.data_file(safe, "/a.txt"), self.data_file(safe, "/b.bin")  # lengths differ
        c, d = self.data_file(safe, "/c.dat"), self.data_file(safe, "/d.dat")  # same length
        self.assertEqual(c.stat().st_size, d.stat().st_size)
        a_bytes, c_bytes = a.read_bytes(), c.read_bytes()
        a.write_bytes(b.read_bytes())
        c.write_bytes(d.read_bytes())
        d.write_bytes(c_bytes)
        del a_bytes
        out, result = self.extract(safe)
        self.assertEqual(result.returncode, 1, result.err)
        for path in ("/a.txt", "/c.dat", "/d.dat"):
            self.assertReported(result, path, "recorded HMAC tag")
            self.assertFalse((out / path.lstrip("/")).exists(), path)
        self.assertExtracted(out, ["/b.bin", "/big.bin", "/folder/inner.txt"])
        self.assertNoPartials(out)

    def test_truncated_data_files_are_refused(self):
        case = self.case()
        safe = case / "S"
        for path, cut in (("/big.bin", 16), ("/b.bin", 1), ("/a.txt", 32)):
            data = self.data_file(safe, path)
            raw = data.read_bytes()
            data.write_bytes(raw[:-cut] if path != "/a.txt" else raw[:len(raw) - 48] + raw[-32:])
        out, result = self.extract(safe)
        self.assertEqual(result.returncode, 1, result.err)
        self.assertReported(result, "/big.bin")
        self.assertReported(result, "/b.bin", "truncated")
        self.assertReported(result, "/a.txt", "truncated")
        for path in ("/big.bin", "/b.bin", "/a.txt"):
            self.assertFalse((out / path.lstrip("/")).exists(), path)
        self.assertExtracted(out, ["/c.dat", "/d.dat", "/folder/inner.txt"])
        self.assertNoPartials(out)

    def test_missing_data_file_is_reported(self):
        case = self.case("B")
        self.data_file(case / "B", "/c.dat").unlink()
        out, result = self.extract(case / "B")
        self.assertEqual(result.returncode, 1, result.err)
        self.assertReported(result, "/c.dat", "missing")
        self.assertExtracted(out, [p for p in self.contents if p != "/c.dat"])

    # ---- the database -------------------------------------------------------------------

    def test_hostile_names_never_leave_out(self):
        case = self.case()
        safe = case / "S"
        con = open_db(safe, self.keys)
        for path, name in (("/a.txt", "../escape"), ("/b.bin", "x/y"), ("/folder", ".."),
                           ("/c.dat", "tab\there")):
            con.execute("UPDATE items SET name = ? WHERE id = ?",
                        (name, uuid.UUID(self.ids[path]).bytes))
        con.close()
        out, result = self.extract(safe)
        self.assertEqual(result.returncode, 1, result.err)
        self.assertNotIn("Traceback", result.err)
        self.assertIn("/../escape: not extracted: its name contains '/'", result.err)
        self.assertIn("/x/y: not extracted: its name contains '/'", result.err)
        self.assertIn("/..: not extracted: its name is '..'", result.err)
        self.assertIn("/tab\\x09here: not extracted: its name contains the control character",
                      result.err)
        self.assertIn("/../inner.txt: not extracted: its folder /.. was not extracted",
                      result.err)
        self.assertEqual(sorted(os.listdir(case)), ["S", "out"])
        self.assertEqual(sorted(os.listdir(self.tmp / "src")), ["a.txt", "b.bin", "big.bin",
                                                                "c.dat", "d.dat", "folder"])
        self.assertEqual(sorted(os.listdir(out)), ["big.bin", "d.dat"])
        self.assertExtracted(out, ["/big.bin", "/d.dat"])

    def test_committed_change_only_in_the_wal_is_read(self):
        case = self.case()
        safe = case / "S"
        con = open_db(safe, self.keys)
        con.execute("PRAGMA wal_autocheckpoint = 0")
        con.execute("UPDATE items SET name = 'renamed in the log.txt' WHERE id = ?",
                    (uuid.UUID(self.ids["/a.txt"]).bytes,))
        try:
            self.assertGreater((safe / "attributes.db-wal").stat().st_size, 0)
            out, result = self.extract(safe)
        finally:
            con.close()
        self.assertEqual(result.returncode, 0, result.err)
        self.assertEqual((out / "renamed in the log.txt").read_bytes(), self.contents["/a.txt"])
        self.assertFalse((out / "a.txt").exists())

    def test_content_replacement_rule(self):
        # database.md, content_replacements: a data file ending in the row's tag holds the
        # row's content; a row whose tag the data file does not carry is ignored.
        case = self.case()
        safe = case / "S"
        new = b"the content saved back after an edit\n"
        message = encrypt_data_file(self.keys.file_enc, self.keys.file_hmac, new)
        self.data_file(safe, "/a.txt").write_bytes(message)
        never = encrypt_data_file(self.keys.file_enc, self.keys.file_hmac, b"never renamed")
        con = open_db(safe, self.keys)
        con.execute("INSERT INTO content_replacements VALUES (?, ?, ?, ?, ?, ?)",
                    (uuid.UUID(self.ids["/a.txt"]).bytes, len(new), 1_700_000_000_000_000_007,
                     message[-32:], hashlib.sha256(new).digest(), b""))
        con.execute("INSERT INTO content_replacements VALUES (?, ?, ?, ?, ?, ?)",
                    (uuid.UUID(self.ids["/b.bin"]).bytes, 13, None, never[-32:],
                     hashlib.sha256(b"never renamed").digest(), b""))
        con.close()
        out, result = self.extract(safe)
        self.assertEqual(result.returncode, 0, result.err)
        self.assertEqual((out / "a.txt").read_bytes(), new)
        self.assertEqual((out / "a.txt").stat().st_mtime_ns // 1000, 1_700_000_000_000_000)
        self.assertExtracted(out, [p for p in self.contents if p != "/a.txt"])

    def test_pending_and_missing_files_are_skipped_and_reported(self):
        case = self.case()
        safe = case / "S"
        con = open_db(safe, self.keys)
        con.execute("UPDATE items SET content = 'pending', hmac_tag = NULL, sha256 = NULL "
                    "WHERE id = ?", (uuid.UUID(self.ids["/c.dat"]).bytes,))
        con.execute("UPDATE items SET content = 'missing' WHERE id = ?",
                    (uuid.UUID(self.ids["/d.dat"]).bytes,))
        con.close()
        out, result = self.extract(safe)
        self.assertEqual(result.returncode, 1, result.err)
        self.assertReported(result, "/c.dat", "pending")
        self.assertReported(result, "/d.dat", "no content")
        self.assertExtracted(out, ["/a.txt", "/b.bin", "/big.bin", "/folder/inner.txt"])
        self.assertFalse((out / "c.dat").exists())
        self.assertFalse((out / "d.dat").exists())

    def test_newer_database_schema(self):
        case = self.case()
        con = open_db(case / "S", self.keys)
        con.execute("PRAGMA user_version = 5")
        con.close()
        out, result = self.extract(case / "S")
        self.assertOneLineError(result, 4, "newer")
        self.assertFalse(out.exists())

    def test_missing_or_damaged_database(self):
        case = self.case()
        (case / "S" / "attributes.db").unlink()
        out, result = self.extract(case / "S")
        self.assertOneLineError(result, 4, "attributes.db", "missing")
        self.assertFalse(out.exists())
        case = self.case()
        with open(case / "S" / "attributes.db", "r+b") as f:
            f.write(os.urandom(4096))
        out, result = self.extract(case / "S")
        self.assertOneLineError(result, 4, "attributes.db", "damaged")
        self.assertFalse(out.exists())

    # ---- the trash ----------------------------------------------------------------------

    def test_same_names_in_the_trash(self):
        case = self.case("B")
        trash = case / "trash"
        out, result = self.extract(case / "B", "--trash-into", trash)
        self.assertEqual(result.returncode, 0, result.err)
        self.assertEqual(sorted((trash / name).read_bytes() for name in os.listdir(trash)),
                         [b"first dup\n", b"second dup\n"])
        self.assertEqual(sorted(os.listdir(trash)), ["dup (2).txt", "dup.txt"])
        self.assertFalse((out / "dup.txt").exists())
        self.assertIn("2 files (21 bytes), 0 folders", result.out)

    # ---- secrets and key files ----------------------------------------------------------

    def test_wrong_password_writes_nothing(self):
        out, result = self.extract(self.safe, secret="correct horse battery staple 43")
        self.assertOneLineError(result, 3, "wrong")
        self.assertFalse(out.exists())

    def test_wrong_recovery_key(self):
        data = "".join(random.Random(3).choice(ae.CROCKFORD) for _ in range(26))
        key = data + ae.recovery_checksum(data)
        key = "-".join(key[i:i + 5] for i in range(0, 30, 5))
        out, result = self.extract(self.backup, "--recovery-key", secret=key)
        self.assertOneLineError(result, 3, "wrong recovery key")
        self.assertFalse(out.exists())

    def test_mistyped_recovery_key(self):
        good = self.recovery_key
        bad = good[:-1] + ("A" if good[-1] != "A" else "B")
        for typed in (bad, good[:-1], good + "7", good.replace(good[0], "U", 1)):
            with self.subTest(typed=typed):
                out, result = self.extract(self.safe, "--recovery-key", secret=typed)
                self.assertOneLineError(result, 2, "typo")
                self.assertFalse(out.exists())

    def test_recovery_key_of_this_safe(self):
        result = run_exit("list", self.safe, "--recovery-key", secret=messy(self.recovery_key))
        self.assertEqual(result.returncode, 0, result.err)
        self.assertIn("/folder/inner.txt", result.out)

    def test_damaged_key_file(self):
        case = self.case()
        key = case / "S" / "safe.key"
        raw = bytearray(key.read_bytes())
        raw[60] ^= 0x80
        key.write_bytes(raw)
        out, result = self.extract(case / "S")
        self.assertOneLineError(result, 3, "damaged")
        self.assertFalse(out.exists())

    def test_key_file_of_another_safe_and_newer_payload(self):
        # Key files sealed here with few iterations (safe.json says how many).
        for payload_version, safe_id, code, words in (
                (1, uuid.uuid4(), 3, ("another Safe",)),
                (2, None, 4, ("newer",))):
            with self.subTest(payload_version=payload_version):
                case = self.case()
                safe = case / "S"
                manifest = json.loads((safe / "safe.json").read_text())
                manifest["kdf"]["iterations"] = 1000
                (safe / "safe.json").write_text(json.dumps(manifest))
                payload = (payload_version.to_bytes(2, "big")
                           + (safe_id or self.keys.safe_id).bytes + self.keys.file_enc
                           + self.keys.file_hmac + self.keys.database)
                (safe / "safe.key").write_bytes(
                    seal_password_message(PASSWORD.encode(), 1000, payload))
                out, result = self.extract(safe)
                self.assertOneLineError(result, code, *words)
                self.assertFalse(out.exists())

    # ---- manifests and arguments ----------------------------------------------------------

    def test_newer_safe_and_backup(self):
        for where, manifest in (("S", "safe.json"), ("B", "backup.json")):
            with self.subTest(source=where):
                case = self.case(where)
                path = case / where / manifest
                doc = json.loads(path.read_text())
                doc["version"] = 99
                doc["something new"] = True
                path.write_text(json.dumps(doc))
                out, result = self.extract(case / where)
                self.assertOneLineError(result, 4, "newer")
                self.assertFalse(out.exists())

    def test_not_a_safe(self):
        empty = self.tmp / "not-a-safe"
        empty.mkdir(exist_ok=True)
        out, result = self.extract(empty)
        self.assertOneLineError(result, 4, "not an Arca Safe")
        result = run_exit("list", self.tmp / "does-not-exist", secret=PASSWORD)
        self.assertOneLineError(result, 4, "does not exist")
        case = self.case()
        (case / "S" / "safe.json").write_text("{not json")
        out, result = self.extract(case / "S")
        self.assertOneLineError(result, 4, "safe.json")

    def test_out_not_empty_or_not_a_folder(self):
        case = self.tmp / "full-out"
        (case / "out").mkdir(parents=True)
        (case / "out" / "something").write_bytes(b"")
        result = run_exit("extract", self.safe, case / "out", secret=PASSWORD)
        self.assertOneLineError(result, 5, "not empty")
        self.assertEqual(os.listdir(case / "out"), ["something"])
        (case / "file").write_bytes(b"")
        result = run_exit("extract", self.safe, case / "file", secret=PASSWORD)
        self.assertOneLineError(result, 5, "not a folder")

    def test_usage_errors(self):
        for args in ([], ["extract", self.safe], ["list"], ["frobnicate", self.safe]):
            with self.subTest(args=args):
                self.assertOneLineError(run_exit(*args), 2)
        out = self.tmp / "usage-out"
        result = run_exit("extract", self.safe, out, "--trash-into", out / "t", secret=PASSWORD)
        self.assertOneLineError(result, 2, "separate")
        result = run_exit("extract", self.safe, self.safe / "inside", secret=PASSWORD)
        self.assertOneLineError(result, 2, "inside SOURCE")
        result = run_exit("extract", self.safe, out, secret="")
        self.assertOneLineError(result, 2, "empty")
        self.assertFalse(out.exists())

    # ---- the backup's own checks ----------------------------------------------------------

    def test_backup_item_document_lost_or_replaced(self):
        case = self.case("B")
        backup = case / "B"
        docs = {p: backup / "items" / i[:2] / f"{i}.xml.crypt" for p, i in self.ids.items()}
        docs["/c.dat"].unlink()  # the index names it: reported by its name there
        docs["/folder"].unlink()  # and what was inside has no known place
        # An authentic document in the place of another: it differs from the index.
        docs["/d.dat"].write_bytes(docs["/b.bin"].read_bytes())
        out, result = self.extract(backup)
        self.assertEqual(result.returncode, 1, result.err)
        self.assertNotIn("Traceback", result.err)
        ids = self.ids
        self.assertIn(f"item {ids['/c.dat']} ('c.dat' in the index): its item document "
                      "is missing", result.err)
        self.assertIn(f"item {ids['/folder']} ('folder' in the index): its item document "
                      "is missing", result.err)
        self.assertIn(f"item {ids['/d.dat']} ('d.dat' in the index): its item document "
                      "differs from the backup's index", result.err)
        self.assertIn(f"'inner.txt' ({ids['/folder/inner.txt']}): not extracted: its folder "
                      f"'folder' ({ids['/folder']}) is not readable", result.err)
        self.assertEqual(sorted(os.listdir(out)), ["a.txt", "b.bin", "big.bin"])
        self.assertExtracted(out, ["/a.txt", "/b.bin", "/big.bin"])
        self.assertIn("4 problems", result.out)

    # ---- the writer's own defences, called directly -------------------------------------

    def test_symlink_planted_in_out_is_not_followed(self):
        # As if someone planted links in OUT after it was found empty: the extraction of
        # those items fails, nothing is written through the links.
        case = self.tmp / "planted"
        (case / "out").mkdir(parents=True)
        (case / "elsewhere").mkdir()
        (case / "victim.txt").write_bytes(b"do not touch")
        os.symlink(case / "victim.txt", case / "out" / "a.txt")
        os.symlink(case / "elsewhere", case / "out" / "folder")
        os.symlink(case / "victim.txt", case / "out" / f".{self.ids['/b.bin']}.arca-exit-partial")
        extractor = ae.Extractor(self.source)
        fd = os.open(case / "out", os.O_RDONLY | os.O_DIRECTORY)
        try:
            extractor.run(fd, None)
        finally:
            os.close(fd)
        reported = {p.where for p in extractor.problems}
        self.assertEqual(reported, {"/a.txt", "/b.bin", "/folder", "/folder/inner.txt"})
        self.assertEqual((case / "victim.txt").read_bytes(), b"do not touch")
        self.assertEqual(os.listdir(case / "elsewhere"), [])
        self.assertTrue((case / "out" / "a.txt").is_symlink())
        self.assertExtracted(case / "out", ["/big.bin", "/c.dat", "/d.dat"])


# ------------------------------------------------------------------------------------------
# Rules checked directly
# ------------------------------------------------------------------------------------------

class TestRules(unittest.TestCase):
    def test_name_rule_refuses(self):
        for name in ("../x", "a/b", ".", "..", "", "x\x00y", "x\ny", "x\x7fy", "x\x85y",
                     "é" * 128, "a" * 256, "x\udcffy"):
            with self.subTest(name=name):
                self.assertIsNotNone(ae.name_problem(name))

    def test_name_rule_accepts(self):
        for name in ("Zoë", "e\u0301", "a" * 255, "é" * 127 + "a", "...", ".hidden",
                     "name with spaces", "日本語.txt", "a\\b", " lead"):
            with self.subTest(name=name):
                self.assertIsNone(ae.name_problem(name))

    def test_recovery_key_normalisation(self):
        key = "NF5NB-DWG9S-N9X79-8XH8S-1JS3V-2A6ME"
        for typed in (key, key.lower(), key.replace("-", ""), key.replace("-", " "),
                      " nf5nb-dwg9s n9x79 8xh8s-ijs3v 2a6me ", key.replace("1", "L"),
                      key.replace("-", "\t"), key.replace("-", "\n")):
            with self.subTest(typed=typed):
                self.assertEqual(ae.normalise_recovery_key(typed), key)
        for typed in (key[:-1], key + "0", key.replace("N", "U", 1), key[:-1] + "F",
                      key.replace("-", "_")):
            with self.subTest(typed=typed):
                with self.assertRaises(ae.RecoveryKeyTypo):
                    ae.normalise_recovery_key(typed)

    def test_data_file_length(self):
        self.assertEqual(ae.data_file_length(0), 66)
        self.assertEqual(ae.data_file_length(15), 66)
        self.assertEqual(ae.data_file_length(16), 82)


if __name__ == "__main__":
    unittest.main(verbosity=2)
