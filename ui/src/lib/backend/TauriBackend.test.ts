import { describe, expect, it } from "vitest";
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { TauriBackend } from "./TauriBackend";
import { BackendError } from "./BackendError";

function recording(answer: unknown = null) {
  const calls: Array<{ cmd: string; args: unknown }> = [];
  mockIPC((cmd, args) => {
    calls.push({ cmd, args });
    return answer;
  });
  return calls;
}

describe("TauriBackend", () => {
  it("names each command after its method in snake_case, with camelCase arguments", async () => {
    const calls = recording();
    const backend = new TauriBackend();
    await backend.unlockSafe("/s/A.arca", "pw");
    await backend.unlockWithRecoveryKey("/s/A.arca", "KEY", "new", true);
    await backend.listFolder({ folder: null, sort: "name", descending: false, offset: 0, limit: 200 });
    await backend.moveItems(["a", "b"], "f");
    await backend.rebuildDatabase("/s/A.arca", "pw", "/b");
    await backend.resumeImport("job-1");
    await backend.openInApp("item-1", null);
    await backend.openInApp("item-1", "org.gnome.TextEditor.desktop");
    await backend.settleLeftoverCopy("left-1", true);
    await backend.dragOut(["a", "b"], "d7Kq2");
    await backend.dragOutDone("d7Kq2");
    await backend.chooseSaveFile("saveSyncConfig", "Travel.arca-sync");
    await backend.setSyncTarget({ kind: "folder", path: "/media/usb/sync" });
    await backend.setSyncSchedule(null);
    await backend.exportSyncConfig("pw", "for the laptop", "/home/me/Travel.arca-sync");
    await backend.syncConfigQr("pw", "for the laptop");
    await backend.setSyncTarget({ kind: "s3", endpoint: "http://nas:3900", region: "garage", bucket: "arca", prefix: "", accessKeyId: "GK1", secretAccessKey: "s3cr3t" });
    await backend.readSyncConfig("/home/me/Travel.arca-sync", "pw");
    await backend.joinSafe("/home/me/Travel.arca-sync", "pw", "/home/me", "Travel", { kind: "folder", path: "/mnt/usb/sync" });
    await backend.approveDevice("4a580233-0000-4000-8000-000000000001");
    await backend.removeDevice("4a580233-0000-4000-8000-000000000001");
    await backend.lockSafe();
    expect(calls).toEqual([
      { cmd: "unlock_safe", args: { path: "/s/A.arca", password: "pw" } },
      { cmd: "unlock_with_recovery_key", args: { path: "/s/A.arca", recoveryKey: "KEY", newPassword: "new", acceptWeak: true } },
      { cmd: "list_folder", args: { request: { folder: null, sort: "name", descending: false, offset: 0, limit: 200 } } },
      { cmd: "move_items", args: { ids: ["a", "b"], folder: "f" } },
      { cmd: "rebuild_database", args: { safePath: "/s/A.arca", password: "pw", target: "/b" } },
      { cmd: "resume_import", args: { jobId: "job-1" } },
      { cmd: "open_in_app", args: { id: "item-1", app: null } },
      { cmd: "open_in_app", args: { id: "item-1", app: "org.gnome.TextEditor.desktop" } },
      { cmd: "settle_leftover_copy", args: { id: "left-1", keep: true } },
      { cmd: "drag_out", args: { ids: ["a", "b"], drag: "d7Kq2" } },
      { cmd: "drag_out_done", args: { drag: "d7Kq2" } },
      { cmd: "choose_save_file", args: { purpose: "saveSyncConfig", name: "Travel.arca-sync" } },
      { cmd: "set_sync_target", args: { target: { kind: "folder", path: "/media/usb/sync" } } },
      { cmd: "set_sync_schedule", args: { everyMinutes: null } },
      { cmd: "export_sync_config", args: { password: "pw", comment: "for the laptop", to: "/home/me/Travel.arca-sync" } },
      { cmd: "sync_config_qr", args: { password: "pw", comment: "for the laptop" } },
      { cmd: "set_sync_target", args: { target: { kind: "s3", endpoint: "http://nas:3900", region: "garage", bucket: "arca", prefix: "", accessKeyId: "GK1", secretAccessKey: "s3cr3t" } } },
      { cmd: "read_sync_config", args: { path: "/home/me/Travel.arca-sync", password: "pw" } },
      { cmd: "join_safe", args: { config: "/home/me/Travel.arca-sync", password: "pw", parent: "/home/me", name: "Travel", targetHere: { kind: "folder", path: "/mnt/usb/sync" } } },
      { cmd: "approve_device", args: { id: "4a580233-0000-4000-8000-000000000001" } },
      { cmd: "remove_device", args: { id: "4a580233-0000-4000-8000-000000000001" } },
      { cmd: "lock_safe", args: {} },
    ]);
  });

  it("covers every method of the Backend interface with a command", async () => {
    const calls = recording([]);
    const backend = new TauriBackend() as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const events = new Set(["onJob", "onHandoff", "onLocked", "onChanged", "onSynced", "onEdit", "onFilesDropped"]);
    const methods = Object.keys(backend).filter((m) => !events.has(m));
    expect(methods.length).toBeGreaterThan(50);
    for (const method of methods) await backend[method]!("x", "y", "z", "w");
    const expected = methods.map((m) => m.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
    expect(calls.map((c) => c.cmd)).toEqual(expected);
  });

  it("wraps the AppError of a rejected command in a BackendError", async () => {
    mockIPC(() => {
      throw { kind: "tryLater", message: "wait", retryAfterSeconds: 8 };
    });
    const error = await new TauriBackend().unlockSafe("/a", "b").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).error).toEqual({ kind: "tryLater", message: "wait", retryAfterSeconds: 8 });
  });

  it("turns anything else a command rejects with into an internal error", async () => {
    mockIPC(() => {
      throw "command list_folder not found";
    });
    const error = await new TauriBackend().tags().catch((e: unknown) => e);
    expect((error as BackendError).error).toEqual({ kind: "internal", message: "command list_folder not found" });
  });

  it("passes event payloads to listeners and stops on unlisten", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const { emit } = await import("@tauri-apps/api/event");
    const backend = new TauriBackend();
    const seen: unknown[] = [];
    const unlisten = await backend.onLocked((e) => seen.push(e));
    await emit("locked", { reason: "idle" });
    unlisten();
    await emit("locked", { reason: "user" });
    expect(seen).toEqual([{ reason: "idle" }]);
  });

  it("passes the status of each ended sync run on", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const { emit } = await import("@tauri-apps/api/event");
    const seen: unknown[] = [];
    const unlisten = await new TauriBackend().onSynced((s) => seen.push(s));
    const status = { target: { kind: "folder", path: "/media/usb" }, everyMinutes: 15, running: null, lastSyncedMs: 1, lastRun: null };
    await emit("synced", status);
    unlisten();
    expect(seen).toEqual([status]);
  });

  it("passes the edit events of other apps' saves on", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const { emit } = await import("@tauri-apps/api/event");
    const seen: unknown[] = [];
    const unlisten = await new TauriBackend().onEdit((e) => seen.push(e));
    const saved = { kind: "saved", edit: "e1", item: "i1", name: "notes.md", size: 12 };
    await emit("edit", saved);
    unlisten();
    expect(seen).toEqual([saved]);
  });

  it("reports files dropped from the desktop with the position in CSS pixels", async () => {
    mockWindows("main");
    mockIPC(() => null, { shouldMockEvents: true });
    const { emit } = await import("@tauri-apps/api/event");
    const scale = window.devicePixelRatio;
    Object.defineProperty(window, "devicePixelRatio", { value: 2, configurable: true });
    const drops: unknown[] = [];
    const unlisten = await new TauriBackend().onFilesDropped((paths, x, y) => drops.push([paths, x, y]));
    await emit("tauri://drag-over", { position: { x: 1, y: 1 } });
    await emit("tauri://drag-drop", { paths: ["/home/me/a.jpg"], position: { x: 200, y: 90 } });
    unlisten();
    Object.defineProperty(window, "devicePixelRatio", { value: scale, configurable: true });
    expect(drops).toEqual([[["/home/me/a.jpg"], 100, 45]]);
  });
});
