"""Arca's items in the menu of GNOME Files (Nautilus): "Open with Arca" on a Safe's folder and
"Add to Safe…" on files and folders. nautilus-python (Debian: python3-nautilus) loads it from
/usr/share/nautilus-python/extensions.

Each item starts `arca-desktop`, which hands the paths to the Arca already running, if any. Arca
opens nothing and imports nothing by itself: it offers the Safe for unlocking, or asks where the
files go."""

import os
import subprocess

import gi

try:
    gi.require_version("Nautilus", "4.0")
except ValueError:
    gi.require_version("Nautilus", "3.0")
from gi.repository import GObject, Nautilus  # noqa: E402

APP = "arca-desktop"


def local_paths(files):
    """The paths of `files`, or [] when one is not on a local disk (Arca reads local files)."""
    paths = []
    for item in files:
        location = item.get_location()
        path = location.get_path() if location is not None else None
        if not path:
            return []
        paths.append(path)
    return paths


def is_safe(path):
    return os.path.isdir(path) and (path.endswith(".arca") or os.path.isfile(os.path.join(path, "safe.json")))


def launch(args):
    subprocess.Popen(
        [APP, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


class ArcaMenu(GObject.GObject, Nautilus.MenuProvider):
    def get_file_items(self, *args):
        # Nautilus 43+ passes (files); older versions (window, files).
        paths = local_paths(args[-1])
        if not paths:
            return []
        items = []
        if len(paths) == 1 and is_safe(paths[0]):
            open_safe = Nautilus.MenuItem(name="Arca::OpenSafe", label="Open with Arca", tip="Unlock this Safe in Arca")
            open_safe.connect("activate", lambda *_: launch(paths))
            items.append(open_safe)
        add = Nautilus.MenuItem(name="Arca::AddToSafe", label="Add to Safe…", tip="Encrypt into an Arca Safe; Arca asks which folder")
        add.connect("activate", lambda *_: launch(["--add", *paths]))
        items.append(add)
        return items
