"""The Linux packages as a person gets them: what the .deb and the .rpm hold, the .deb installed
with apt (the app started from it under Xvfb, a second start handing its files to the first,
the MIME type for Safes and the desktop entry registered), then removed without a trace; the
.rpm installed into a scratch root and erased.

Run by tests/package/run after packaging/build --debug. Installing needs root (or sudo
without a password); without it, or when an Arca package is installed already (it would be
replaced, then removed), those steps are skipped and say so.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIME = "application/x-arca-safe"
DESKTOP = "Arca.desktop"
PACKAGE = "arca"
WAIT = 60

EXPECTED = [
    "usr/bin/arca",
    "usr/bin/arca-desktop",
    "usr/share/applications/Arca.desktop",
    "usr/share/icons/hicolor/16x16/apps/arca-desktop.png",
    "usr/share/icons/hicolor/256x256/apps/arca-desktop.png",
    "usr/share/icons/hicolor/512x512/apps/arca-desktop.png",
    "usr/share/mime/packages/arca.xml",
    "usr/share/bash-completion/completions/arca",
    "usr/share/zsh/vendor-completions/_arca",
    "usr/share/fish/vendor_completions.d/arca.fish",
    "usr/share/man/man1/arca.1.gz",
    "usr/share/man/man1/arca-edit.1.gz",
    "usr/share/nemo/actions/arca-open.nemo_action",
    "usr/share/nemo/actions/arca-add.nemo_action",
    "usr/share/kio/servicemenus/arca-add.desktop",
    "usr/share/Thunar/sendto/arca-add.desktop",
    "usr/share/nautilus-python/extensions/arca.py",
]


class Failed(Exception):
    pass


def run(*cmd: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(list(cmd), capture_output=True, text=True, env=env)
    if check and done.returncode != 0:
        raise Failed(f"{' '.join(cmd)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


def as_root() -> list[str] | None:
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and run("sudo", "-n", "true", check=False).returncode == 0:
        return ["sudo", "-n"]
    return None


def expect_files(listed: set[str], what: str) -> None:
    missing = [path for path in EXPECTED if path not in listed]
    if missing:
        raise Failed(f"{what} lacks {missing}")


def deb_files(deb: Path) -> set[str]:
    names = set()
    for line in run("dpkg-deb", "--contents", str(deb)).stdout.splitlines():
        names.add(line.split()[-1].removeprefix("./"))
    return names


def check_desktop_entry(text: str, where: str) -> None:
    for line in ("Exec=arca-desktop %F", f"MimeType={MIME};", "Icon=arca-desktop", "Exec=arca-desktop --add %F"):
        if line not in text.splitlines():
            raise Failed(f"the desktop entry ({where}) has no line “{line}”:\n{text}")
    with tempfile.NamedTemporaryFile("w", suffix=".desktop", delete=False) as entry:
        entry.write(text)
    try:
        done = run("desktop-file-validate", entry.name, check=False)
        if done.returncode != 0 or "error" in done.stdout:
            raise Failed(f"desktop-file-validate: {done.stdout}{done.stderr}")
    finally:
        os.unlink(entry.name)


def gio(code: str) -> str:
    """Asks GIO in a new process (GIO reads the MIME and desktop databases once per process)."""
    return run("/usr/bin/python3", "-c", "import gi\nfrom gi.repository import Gio\n" + code).stdout.strip()


def type_of(path: Path) -> str:
    return gio(f"print(Gio.content_type_guess({str(path)!r}, None)[0])")


def default_app(mime: str) -> str:
    return gio(f"app = Gio.AppInfo.get_default_for_type({mime!r}, False)\nprint(app.get_id() if app else '')")


def windows(env: dict[str, str]) -> list[tuple[str, int, int]]:
    """The top-level windows called Arca: (id, width, height)."""
    found = []
    # A window that goes away while xwininfo walks the tree fails the walk ("Bad Window", seen
    # once in the suite as GTK's start-up windows came and went): walk it again.
    for _ in range(10):
        done = run("xwininfo", "-root", "-tree", env=env, check=False)
        if done.returncode == 0:
            break
        time.sleep(0.1)
    else:
        raise Failed(f"xwininfo -root -tree kept failing:\n{done.stdout}{done.stderr}")
    tree = done.stdout
    for line in tree.splitlines():
        line = line.strip()
        if '"Arca"' not in line or "arca-desktop" not in line:
            continue
        geometry = line.split(")")[-1].split()[0]  # e.g. 1100x720+90+40
        width, height = geometry.split("+")[0].split("x")
        found.append((line.split()[0], int(width), int(height)))
    return found


def until(what: str, check, seconds: float = WAIT):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise Failed(f"waited {seconds:.0f} s for {what}")


def start_xvfb(log) -> tuple[subprocess.Popen[bytes], str]:
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        raise Failed("Xvfb did not start")
    return xvfb, f":{number}"


def installed_app_runs_once(work: Path, safe: Path, photo: Path) -> None:
    """The installed app opens its window; a second start (a file manager's "Add to Safe…")
    hands its paths to the first over the session bus and exits."""
    log = (work / "app.log").open("wb")
    xvfb, display = start_xvfb(log)
    home = work / "home"
    runtime = Path(tempfile.mkdtemp(prefix="arca-pkg-runtime-", dir="/dev/shm"))
    env = dict(os.environ, DISPLAY=display, HOME=str(home), XDG_RUNTIME_DIR=str(runtime),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local/share"),
               LANG="C.UTF-8", NO_AT_BRIDGE="1")
    env.pop("WAYLAND_DISPLAY", None)
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=log, text=True, env=env, start_new_session=True)
    address = bus.stdout.readline().strip() if bus.stdout else ""
    if not address:
        raise Failed("no session bus")
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    first = subprocess.Popen(["/usr/bin/arca-desktop", str(safe / "safe.json")], env=env,
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        found = until("the installed app's window", lambda: windows(env))
        _, width, height = found[0]
        if width < 720 or height < 480:
            raise Failed(f"the window is {width}×{height}")
        second = subprocess.run(["/usr/bin/arca-desktop", "--add", str(photo)], env=env,
                                stdout=log, stderr=subprocess.STDOUT, timeout=WAIT)
        if second.returncode != 0:
            raise Failed(f"the second start exited with {second.returncode}")
        if first.poll() is not None:
            raise Failed(f"the first app exited ({first.returncode}) when the second handed over")
        time.sleep(1)
        if len(windows(env)) != 1:
            raise Failed(f"{len(windows(env))} Arca windows after the second start")
    finally:
        os.killpg(first.pid, 15)
        first.wait(timeout=WAIT)
        bus.terminate()
        bus.wait(timeout=WAIT)
        os.killpg(xvfb.pid, 15)
        xvfb.wait(timeout=WAIT)
        shutil.rmtree(runtime, ignore_errors=True)
        log.close()


def main() -> int:
    deb, rpm = Path(sys.argv[1]), Path(sys.argv[2])
    work = Path(tempfile.mkdtemp(prefix="arca-package-"))
    safe = work / "Travel.arca"
    photo = work / "beach.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    passed: list[str] = []
    skipped: list[str] = []
    current = ""

    def step(name: str) -> None:
        nonlocal current
        if current:
            passed.append(current)
            print(f"  ok   {current}", flush=True)
        current = name

    root = as_root()
    already = run("dpkg-query", "-W", "-f=${Status}", PACKAGE, check=False).stdout == "install ok installed"
    try:
        step("the .deb holds the app, the command line with completions and manuals, the MIME type and the file-manager actions")
        expect_files(deb_files(deb), deb.name)
        entry = run("sh", "-c", f"dpkg-deb --fsys-tarfile '{deb}' | tar -xO usr/share/applications/{DESKTOP}").stdout
        check_desktop_entry(entry, deb.name)

        step("the .rpm holds the same files")
        expect_files({line.lstrip("/") for line in run("rpm", "-qlp", str(rpm)).stdout.splitlines()}, rpm.name)

        if root is None or already:
            reason = "not root and no sudo" if root is None else f"an {PACKAGE} package is installed here already"
            skipped.append(f"installing the packages ({reason})")
            step("")
        else:
            step("apt installs the .deb, and its arca runs")
            run(*root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y", "-qq", str(deb.resolve()))
            installed = [line for line in run("dpkg-query", "-L", PACKAGE).stdout.splitlines() if line]
            version = run("/usr/bin/arca", "--version").stdout
            if not version.startswith("arca "):
                raise Failed(f"arca --version said {version!r}")
            safe.mkdir()
            (safe / "safe.json").write_text(json.dumps({"format": "arca-safe", "version": 1}, indent=2))

            step("a Safe's safe.json is an Arca Safe to the desktop, and opens in Arca")
            kind = type_of(safe / "safe.json")
            if kind != MIME:
                raise Failed(f"safe.json is {kind}")
            if default_app(MIME) != DESKTOP:
                raise Failed(f"{MIME} opens with “{default_app(MIME)}”")
            other = work / "notes.json"
            other.write_text("{}")
            if type_of(other) != "application/json":
                raise Failed(f"another JSON file is {type_of(other)}")

            step("the installed app opens its window, and a second start hands its files to it")
            installed_app_runs_once(work, safe, photo)

            step("apt removes it without a trace")
            run(*root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "-qq", PACKAGE)
            left = [path for path in installed if Path(path).is_file() or Path(path).is_symlink()]
            if left:
                raise Failed(f"left behind: {left}")
            if type_of(safe / "safe.json") == MIME:
                raise Failed("the MIME type outlived the package")

            step("the .rpm installs into a scratch root, its arca runs there, and it erases cleanly")
            scratch = work / "rpm-root"
            scratch.mkdir()
            run(*root, "rpm", "-i", "--nodeps", "--root", str(scratch), str(rpm.resolve()))
            for path in EXPECTED:
                if not (scratch / path).exists():
                    raise Failed(f"the .rpm installed no {path}")
            run(str(scratch / "usr/bin/arca"), "--version")
            run(*root, "rpm", "-e", "--nodeps", "--root", str(scratch), PACKAGE)
            # Only rpm's own database stays (where this rpm keeps it: var/lib/rpm, or ~/.rpmdb).
            left = [str(p.relative_to(scratch)) for p in scratch.rglob("*")
                    if (p.is_file() or p.is_symlink())
                    and not any(part in ("rpm", ".rpmdb") for part in p.relative_to(scratch).parts)]
            if left:
                raise Failed(f"rpm -e left {left[:10]}")
            step("")
    except (Failed, subprocess.TimeoutExpired, OSError) as error:
        print(f"  FAIL {current}\n       {error}", flush=True)
        log = work / "app.log"
        if log.exists():
            print("       the installed app's output, last lines:")
            for line in log.read_text(errors="replace").splitlines()[-30:]:
                print(f"       | {line}")
        if root is not None and not already:
            run(*root, "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "purge", "-y", "-qq", PACKAGE, check=False)
        print(f"\npackage: {len(passed)} passed, 1 failed; folder {work}")
        return 1
    for what in skipped:
        print(f"  SKIP {what}")
    print(f"\npackage: {len(passed)} passed, {len(skipped)} skipped")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
