import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEMO_DRAG_OUT_FOLDER, MemoryBackend } from "./MemoryBackend";
import { BackendError } from "../BackendError";
import { DEMO_PASSWORD, DEMO_SAFE_PATH } from "./demo";
import { DEMO_RECOVERY_KEY, keyTypo, randomKey } from "./recoveryKey";
import { nameProblem } from "./names";
import type { AppError, ChangedEvent, EditEvent, Job } from "../../bindings";

async function kindOf(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(BackendError);
  return (error as BackendError).error;
}

async function unlocked() {
  const backend = new MemoryBackend({ bigFolderSize: 500 });
  await backend.unlockSafe(DEMO_SAFE_PATH, DEMO_PASSWORD);
  return backend;
}

describe("MemoryBackend", () => {
  afterEach(() => vi.useRealTimers());

  it("lists the demo Safe and its unopenable neighbours among the recent Safes", async () => {
    const recents = await new MemoryBackend({ bigFolderSize: 10 }).recentSafes();
    expect(recents.map((r) => r.status)).toEqual(expect.arrayContaining(["ready", "missing", "notASafe", "newer"]));
  });

  it("waits 2^n seconds after n wrong passwords in a row, and forgets them on success", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const backend = new MemoryBackend({ bigFolderSize: 10 });
    expect((await kindOf(backend.unlockSafe(DEMO_SAFE_PATH, "nope"))).kind).toBe("wrongPassword");
    const waiting = await kindOf(backend.unlockSafe(DEMO_SAFE_PATH, DEMO_PASSWORD));
    expect(waiting).toMatchObject({ kind: "tryLater", retryAfterSeconds: 2 });
    vi.advanceTimersByTime(2000);
    await kindOf(backend.unlockSafe(DEMO_SAFE_PATH, "nope"));
    expect((await backend.inspectSafe(DEMO_SAFE_PATH)).retryAfterSeconds).toBe(4);
    vi.advanceTimersByTime(4000);
    await backend.unlockSafe(DEMO_SAFE_PATH, DEMO_PASSWORD);
    expect((await backend.inspectSafe(DEMO_SAFE_PATH)).retryAfterSeconds).toBe(0);
  });

  it("keeps the name rule", () => {
    expect(nameProblem("ok name.txt")).toBeNull();
    expect(nameProblem("ä".repeat(127))).toBeNull();
    for (const bad of ["", ".", "..", "a/b", "a\u0000b", "tab\there", "x".repeat(256), "ä".repeat(128)]) {
      expect(nameProblem(bad), JSON.stringify(bad)).not.toBeNull();
    }
  });

  it("refuses clashing and invalid names by kind", async () => {
    const backend = await unlocked();
    expect((await kindOf(backend.createFolder(null, "Photos"))).kind).toBe("nameClash");
    expect((await kindOf(backend.createFolder(null, "a/b"))).kind).toBe("invalidName");
    const id = await backend.createFolder(null, "New");
    expect((await kindOf(backend.renameItem(id, "Music"))).kind).toBe("nameClash");
  });

  it("pages a sorted folder and moves, trashes and restores items", async () => {
    const backend = await unlocked();
    const root = await backend.listFolder({ folder: null, sort: "name", descending: false, offset: 0, limit: 200 });
    const scans = root.rows.find((r) => r.name === "Scans")!;
    const page = await backend.listFolder({ folder: scans.id, sort: "name", descending: true, offset: 100, limit: 50 });
    expect(page.total).toBe(500);
    expect(page.rows[0]!.name).toBe("scan-000400.jpg");
    const photos = root.rows.find((r) => r.name === "Photos")!;
    expect((await kindOf(backend.moveItems([photos.id], photos.id))).kind).toBe("moveIntoItself");
    const readme = root.rows.find((r) => r.name === "README.txt")!;
    await backend.moveToTrash([readme.id]);
    expect((await backend.trashItems(0, 10)).rows[0]!.id).toBe(readme.id);
    expect(await backend.restoreFromTrash([readme.id])).toEqual(["/README.txt"]);
    expect((await kindOf(backend.restoreFromTrash([readme.id]))).kind).toBe("trashState");
  });

  it("finds by name, tag and comment word starts, within a folder when asked", async () => {
    const backend = await unlocked();
    const hits = await backend.search({ text: "sunset", folder: null, tag: null, favoritesOnly: false, offset: 0, limit: 50 });
    expect(hits.hits.map((h) => [h.row.name, h.folderPath])).toEqual([["beach.jpg", "/Photos"]]);
    const tagged = await backend.search({ text: "tax", folder: null, tag: null, favoritesOnly: false, offset: 0, limit: 50 });
    // The three tagged files and the folder "Taxes 2024".
    expect(tagged.total).toBe(4);
  });

  it("accepts the demo recovery key and reports typos of others", async () => {
    expect(keyTypo(DEMO_RECOVERY_KEY)).toBeNull();
    expect(keyTypo(randomKey())).toBeNull();
    expect(keyTypo("ABCDE")).toEqual({ kind: "length", found: 5, expected: 30 });
    expect(keyTypo(`U${DEMO_RECOVERY_KEY.slice(1)}`)).toEqual({ kind: "character", position: 1, character: "U" });
    const swapped = DEMO_RECOVERY_KEY.replace(/^(.)(.)/, "$2$1");
    expect(keyTypo(swapped)).toEqual({ kind: "checksum" });
    const backend = new MemoryBackend({ bigFolderSize: 10 });
    const opened = await backend.unlockWithRecoveryKey(DEMO_SAFE_PATH, DEMO_RECOVERY_KEY.toLowerCase(), "violet granite orbit ketch", false);
    expect(opened.name).toBe("Demo");
    await backend.lockSafe();
    await backend.unlockSafe(DEMO_SAFE_PATH, "violet granite orbit ketch");
  });

  it("runs an import on timers with pause, a problem, and greyed pending items", async () => {
    const backend = await unlocked();
    vi.useFakeTimers();
    const seen: Job[] = [];
    await backend.onJob((job) => seen.push(job));
    const started = backend.importPaths(["/home/demo/Pictures/Garden"], null);
    await vi.advanceTimersByTimeAsync(1);
    const job = await started;
    const listing = backend.listFolder({ folder: null, sort: "name", descending: false, offset: 0, limit: 200 });
    await vi.advanceTimersByTimeAsync(1);
    const garden = (await listing).rows.find((r) => r.name === "Garden")!;
    expect(garden).toBeTruthy();
    const paused = backend.pauseJob(job.id);
    await vi.advanceTimersByTimeAsync(1);
    await paused;
    expect(seen.at(-1)!.state).toBe("paused");
    const resumed = backend.resumeJob(job.id);
    await vi.advanceTimersByTimeAsync(1);
    await resumed;
    await vi.advanceTimersByTimeAsync(10_000);
    const last = seen.at(-1)!;
    expect(last.state).toBe("finished");
    expect(last.problems).toEqual([expect.objectContaining({ kind: "unreadable" })]);
    expect(last.filesDone).toBe(last.filesTotal);
  });

  it("keeps an import interrupted by a lock for resume at the next unlock", async () => {
    const backend = await unlocked();
    vi.useFakeTimers();
    const started = backend.importPaths(["/home/demo/Pictures/Garden"], null);
    await vi.advanceTimersByTimeAsync(150);
    await started;
    backend.lock("user");
    const unlocking = backend.unlockSafe(DEMO_SAFE_PATH, DEMO_PASSWORD);
    await vi.advanceTimersByTimeAsync(1);
    const opened = await unlocking;
    expect(opened.interruptedImports).toHaveLength(1);
    expect(opened.interruptedImports[0]!.filesLeft).toBeGreaterThan(0);
  });

  it("asks for the Safe Password again for security settings", async () => {
    const backend = await unlocked();
    const settings = await backend.settings();
    expect((await kindOf(backend.saveSettings({ ...settings, autoLockMinutes: 5 }, "wrong"))).kind).toBe("wrongPassword");
    await backend.saveSettings({ ...settings, theme: "dark" }, null);
    await backend.saveSettings({ ...settings, theme: "dark", autoLockMinutes: 5 }, DEMO_PASSWORD).catch((e: BackendError) => {
      // The wrong attempt above set a back-off; that is the rule, not a failure here.
      expect(e.error.kind).toBe("tryLater");
    });
  });
});

describe("MemoryBackend: other apps", () => {
  async function file(backend: MemoryBackend, name: string, folder: string | null = null) {
    const page = await backend.listFolder({ folder, sort: "name", descending: false, offset: 0, limit: 200 });
    return page.rows.find((r) => r.name === name)!;
  }

  it("opens a live file, takes a simulated save back as the same item, and ends the edit", async () => {
    const backend = await unlocked();
    const events: EditEvent[] = [];
    const changes: ChangedEvent[] = [];
    await backend.onEdit((e) => events.push(e));
    await backend.onChanged((e) => changes.push(e));
    const readme = await file(backend, "README.txt");
    expect((await backend.appsForItem(readme.id)).map((a) => a.name)).toEqual(["Text Editor", "Notes"]);
    const edit = await backend.openInApp(readme.id, "org.demo.Notes.desktop");
    expect(edit).toMatchObject({ item: readme.id, name: "README.txt", path: "/README.txt", unsaved: false, openElsewhere: true });
    expect(await backend.openEdits()).toEqual([edit]);
    expect(await backend.editsOpenElsewhere()).toEqual(["README.txt"]);

    backend.simulateSave(edit.edit, "Hello from the other app");
    expect(events).toEqual([{ kind: "saved", edit: edit.edit, item: readme.id, name: "README.txt", size: 24 }]);
    expect(changes).toEqual([{ folders: [null] }]);
    const details = await backend.itemDetails(readme.id);
    expect(details.row).toMatchObject({ id: readme.id, size: 24, tags: readme.tags });
    expect(details.row.modifiedMs).toBeGreaterThan(readme.modifiedMs!);
    expect(details.comment).toBe("How this Safe is organised.");
    expect(atob((await backend.previewUrl(readme.id)).split(",")[1]!)).toBe("Hello from the other app");

    backend.setOpenElsewhere(edit.edit, false);
    expect(await backend.editsOpenElsewhere()).toEqual([]);
    await backend.finishEdit(edit.edit);
    expect(events.at(-1)).toMatchObject({ kind: "ended", edit: edit.edit });
    expect(await backend.openEdits()).toEqual([]);
    expect((await kindOf(backend.finishEdit(edit.edit))).kind).toBe("notFound");
  });

  it("keeps an edit open when its last save cannot be taken back", async () => {
    const backend = await unlocked();
    const edit = await backend.openInApp((await file(backend, "README.txt")).id, null);
    backend.simulateSaveProblem(edit.edit, "No space left on device");
    backend.finishProblem = "No space left on device";
    expect(await kindOf(backend.finishEdit(edit.edit))).toEqual({ kind: "io", message: "No space left on device" });
    expect(await backend.openEdits()).toEqual([{ ...edit, unsaved: true }]);
  });

  it("refuses what cannot be opened, by kind", async () => {
    const backend = await unlocked();
    expect((await kindOf(backend.openInApp((await file(backend, "Documents")).id, null))).kind).toBe("invalidInput");
    const inbox = (await file(backend, "Inbox")).id;
    expect((await kindOf(backend.openInApp((await file(backend, "Scan in progress.pdf", inbox)).id, null))).kind).toBe("notStoredYet");
    expect((await kindOf(backend.openInApp((await file(backend, "Lost attachment.docx", inbox)).id, null))).kind).toBe("damaged");
    const readme = (await file(backend, "README.txt")).id;
    expect((await kindOf(backend.openInApp(readme, "org.gimp.GIMP.desktop"))).kind).toBe("invalidInput");
    backend.secureArea = false;
    expect((await kindOf(backend.openInApp(readme, null))).kind).toBe("noSecureArea");
    expect(await backend.dragOutFolder()).toBeNull();
  });

  it("takes back pending saves and forgets every edit on lock", async () => {
    const backend = await unlocked();
    const events: EditEvent[] = [];
    await backend.onEdit((e) => events.push(e));
    const edit = await backend.openInApp((await file(backend, "README.txt")).id, null);
    backend.simulateSaveProblem(edit.edit, "busy");
    backend.lock("user");
    expect(events.map((e) => e.kind)).toEqual(["problem", "saved"]);
    await backend.unlockSafe(DEMO_SAFE_PATH, DEMO_PASSWORD);
    expect(await backend.openEdits()).toEqual([]);
  });

  it("offers seeded leftover copies after unlock, and takes one back or deletes it", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 10 });
    const kept = backend.seedLeftover(DEMO_SAFE_PATH, "/Documents/notes.md", { text: "Changed later", modified: 1_700_000_000_000 });
    const dropped = backend.seedLeftover(DEMO_SAFE_PATH, "/README.txt", { modified: null });
    expect(dropped.modified).toBeUndefined();
    await backend.unlockSafe(DEMO_SAFE_PATH, DEMO_PASSWORD);
    expect(await backend.leftoverCopies()).toEqual([kept, dropped]);
    expect(kept).toMatchObject({ name: "notes.md", path: "/Documents/notes.md" });
    await backend.settleLeftoverCopy(kept.id, true);
    await backend.settleLeftoverCopy(dropped.id, false);
    expect(await backend.leftoverCopies()).toEqual([]);
    expect((await backend.itemDetails(kept.item)).row).toMatchObject({ size: 13, modifiedMs: 1_700_000_000_000 });
    expect((await kindOf(backend.settleLeftoverCopy(kept.id, true))).kind).toBe("notFound");
  });

  it("exports dragged items under a drag named by letters and digits, and removes them when done", async () => {
    const backend = await unlocked();
    expect(await backend.dragOutFolder()).toBe(DEMO_DRAG_OUT_FOLDER);
    const readme = (await file(backend, "README.txt")).id;
    expect((await kindOf(backend.dragOut([readme], "../x"))).kind).toBe("invalidInput");
    await backend.dragOut([readme], "Ab12");
    expect(backend.draggedOut.get("Ab12")).toEqual(["README.txt"]);
    const inbox = (await file(backend, "Inbox")).id;
    expect((await kindOf(backend.dragOut([inbox], "Cd34"))).kind).toBe("io");
    await backend.dragOutDone("Ab12");
    expect(backend.draggedOut.size).toBe(0);
  });
});

describe("MemoryBackend auto-lock", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("locks after the idle minutes and tells the window why", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 10 });
    const unlocking = backend.unlockSafe(DEMO_SAFE_PATH, DEMO_PASSWORD);
    await vi.advanceTimersByTimeAsync(1);
    await unlocking;
    const reasons: string[] = [];
    await backend.onLocked((e) => reasons.push(e.reason));
    await vi.advanceTimersByTimeAsync(15 * 60_000);
    expect(reasons).toEqual(["idle"]);
  });
});
