"""The Nautilus extension (packaging/linux/arca-nautilus.py) without Nautilus: a stand-in for
gi.repository.Nautilus records the menu items, and the commands they would start."""

import sys
import tempfile
import types
import unittest
from pathlib import Path
from unittest import mock

EXTENSION = Path(__file__).resolve().parents[2] / "packaging" / "linux" / "arca-nautilus.py"


class MenuItem:
    def __init__(self, name, label, tip=""):
        self.name, self.label, self.tip = name, label, tip
        self.handlers = []

    def connect(self, signal, handler):
        assert signal == "activate"
        self.handlers.append(handler)

    def activate(self):
        for handler in self.handlers:
            handler(self)


class Location:
    def __init__(self, path):
        self.path = path

    def get_path(self):
        return self.path


class FileInfo:
    def __init__(self, path):
        self.path = path

    def get_location(self):
        return Location(self.path)


def load_extension():
    nautilus = types.SimpleNamespace(MenuProvider=type("MenuProvider", (), {}), MenuItem=MenuItem)
    gi = types.ModuleType("gi")
    gi.require_version = lambda name, version: None
    repository = types.ModuleType("gi.repository")
    repository.GObject = types.SimpleNamespace(GObject=type("GObject", (), {}))
    repository.Nautilus = nautilus
    gi.repository = repository
    with mock.patch.dict(sys.modules, {"gi": gi, "gi.repository": repository}):
        namespace = {"__name__": "arca_nautilus"}
        exec(compile(EXTENSION.read_text(), str(EXTENSION), "exec"), namespace)
    return namespace


class NautilusExtension(unittest.TestCase):
    def setUp(self):
        self.ext = load_extension()
        self.dir = Path(tempfile.mkdtemp())
        self.safe = self.dir / "Travel.arca"
        self.safe.mkdir()
        (self.safe / "safe.json").write_text("{}")
        self.photo = self.dir / "beach.jpg"
        self.photo.write_bytes(b"x")

    def items(self, *paths, old_api=False):
        files = [FileInfo(str(p) if p else None) for p in paths]
        menu = self.ext["ArcaMenu"]()
        return menu.get_file_items(object(), files) if old_api else menu.get_file_items(files)

    def started(self, item):
        with mock.patch("subprocess.Popen") as popen:
            item.activate()
        return popen.call_args.args[0]

    def test_a_safe_offers_open_and_add(self):
        items = self.items(self.safe)
        self.assertEqual([i.label for i in items], ["Open with Arca", "Add to Safe…"])
        self.assertEqual(self.started(items[0]), ["arca-desktop", str(self.safe)])

    def test_files_are_added_never_opened(self):
        items = self.items(self.photo, self.safe, old_api=True)
        self.assertEqual([i.label for i in items], ["Add to Safe…"])
        self.assertEqual(self.started(items[0]), ["arca-desktop", "--add", str(self.photo), str(self.safe)])

    def test_remote_files_get_no_items(self):
        self.assertEqual(self.items(None), [])


if __name__ == "__main__":
    unittest.main()
