#!/usr/bin/env python3
"""A stand-in for a file manager's window in the end-to-end test: a GTK window that accepts
dropped files (text/uri-list, as Nautilus, Nemo, Thunar and Dolphin do) and copies each one
into DESTINATION, as a file manager does on a drop. Prints "ready" once its window is shown and
one line per drop ("copied NAME" or "failed NAME: why").

    drop_target.py DESTINATION X Y WIDTH HEIGHT
"""

import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402


def main() -> None:
    destination = Path(sys.argv[1])
    x, y, width, height = (int(value) for value in sys.argv[2:6])
    window = Gtk.Window(title="Drop target")
    window.set_default_size(width, height)
    window.move(x, y)
    window.add(Gtk.Label(label="Drop files here"))
    window.drag_dest_set(Gtk.DestDefaults.ALL, [], Gdk.DragAction.COPY)
    window.drag_dest_add_uri_targets()

    def received(_widget, _context, _x, _y, data, _info, _time):
        for uri in data.get_uris():
            source = Path(unquote(urlparse(uri).path))
            try:
                if source.is_dir():
                    shutil.copytree(source, destination / source.name)
                else:
                    shutil.copy2(source, destination / source.name)
                print(f"copied {source.name}", flush=True)
            except OSError as error:
                print(f"failed {source.name}: {error}", flush=True)

    window.connect("drag-data-received", received)
    window.connect("destroy", Gtk.main_quit)
    window.show_all()
    GLib.idle_add(lambda: print("ready", flush=True))
    Gtk.main()


if __name__ == "__main__":
    main()
