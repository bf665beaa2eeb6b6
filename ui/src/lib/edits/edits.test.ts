// Files opened in other apps, leftover copies, locking with files open and dragging out, in the
// whole window against the in-memory backend.
import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import { DEMO_DRAG_OUT_FOLDER, MemoryBackend } from "../backend/memory/MemoryBackend";
import { DEMO_SAFE_PATH } from "../backend/memory/demo";
import { BackendError } from "../backend/BackendError";
import { DRAG_TYPE } from "../browser/dnd";
import { clearNotices } from "../state/notices.svelte";

function app(backend = new MemoryBackend({ bigFolderSize: 20 })) {
  render(App, { backend });
  return backend;
}

async function unlockDemo() {
  const field = await screen.findByLabelText("Safe Password");
  await fireEvent.input(field, { target: { value: "demo" } });
  await fireEvent.click(screen.getByRole("button", { name: "Unlock" }));
  return screen.findByRole("grid");
}

async function rowMenu(name: string): Promise<HTMLElement> {
  const grid = screen.getByRole("grid");
  await fireEvent.contextMenu(await within(grid).findByText(name));
  return screen.findByRole("menu");
}

const toasts = () => screen.getByRole("region", { name: "Notifications" });

describe("files in other apps", () => {
  afterEach(() => clearNotices());

  it("are offered in the row menu for one live file whose content is there, and nothing else", async () => {
    app();
    const grid = await unlockDemo();
    let menu = await rowMenu("README.txt");
    expect(within(menu).getByRole("menuitem", { name: "Open in default app" })).toBeInTheDocument();
    expect(within(menu).getByRole("menuitem", { name: "Open with…" })).toBeInTheDocument();
    await fireEvent.keyDown(menu, { key: "Escape" });

    menu = await rowMenu("Documents");
    expect(within(menu).queryByRole("menuitem", { name: "Open in default app" })).not.toBeInTheDocument();
    await fireEvent.keyDown(menu, { key: "Escape" });

    await fireEvent.dblClick(within(grid).getByText("Inbox"));
    menu = await rowMenu("Scan in progress.pdf");
    expect(within(menu).queryByRole("menuitem", { name: "Open with…" })).not.toBeInTheDocument();
    await fireEvent.keyDown(menu, { key: "Escape" });
    menu = await rowMenu("Meeting minutes.txt");
    expect(within(menu).getByRole("menuitem", { name: "Open with…" })).toBeInTheDocument();
    await fireEvent.keyDown(menu, { key: "Escape" });

    await fireEvent.click(within(screen.getByRole("navigation", { name: "Places" })).getByRole("button", { name: /^Trash/ }));
    menu = await rowMenu("Old draft.docx");
    expect(within(menu).getByRole("menuitem", { name: "Restore" })).toBeInTheDocument();
    expect(within(menu).queryByRole("menuitem", { name: "Open in default app" })).not.toBeInTheDocument();
  });

  it("are offered by the info panel of a chosen file too", async () => {
    const backend = app();
    const grid = await unlockDemo();
    const open = vi.spyOn(backend, "openInApp");
    await fireEvent.click(await within(grid).findByText("Documents"));
    const info = await screen.findByRole("complementary", { name: "Info" });
    await within(info).findByText("Documents", { selector: "p" });
    expect(within(info).queryByRole("button", { name: "Open in default app" })).not.toBeInTheDocument();
    await fireEvent.click(within(grid).getByText("Recovery plan.pdf"));
    await fireEvent.click(await within(info).findByRole("button", { name: "Open in default app" }));
    await waitFor(() => expect(open).toHaveBeenCalledWith(expect.any(String), null));
    await fireEvent.click(within(info).getByRole("button", { name: "Open with…" }));
    expect(await screen.findByRole("dialog", { name: "Open “Recovery plan.pdf” with" })).toBeInTheDocument();
  });

  it("open in the default app, show in the activity panel, say each save, and end with Done", async () => {
    const backend = app();
    await unlockDemo();
    const open = vi.spyOn(backend, "openInApp");
    const menu = await rowMenu("README.txt");
    await fireEvent.click(within(menu).getByRole("menuitem", { name: "Open in default app" }));
    await waitFor(() => expect(open).toHaveBeenCalledWith(expect.any(String), null));
    await within(toasts()).findByText("Opened “README.txt” in another app. Each save there comes back into the Safe.");
    const toggle = screen.getByRole("button", { name: "Show activity" });
    await waitFor(() => expect(toggle).toHaveAccessibleDescription("1 file open in another app"));

    await fireEvent.click(toggle);
    const section = await screen.findByRole("region", { name: "Open in other apps" });
    within(section).getByText("README.txt");
    within(section).getByText("/README.txt");
    within(section).getByText("Open in another app");

    const [edit] = await backend.openEdits();
    backend.simulateSave(edit!.edit, "A line from the other app");
    const saved = await within(toasts()).findByText("Saved “README.txt” to the Safe");
    expect(saved.closest(".toast")).toHaveAttribute("data-tone", "success");
    expect(screen.getAllByRole("status").some((s) => s.textContent === "Saved “README.txt” to the Safe")).toBe(true);
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();

    backend.simulateSaveProblem(edit!.edit, "No space left on device.");
    await within(toasts()).findByText(
      "Could not save “README.txt” to the Safe: No space left on device. The change is kept and tried again at the next save.",
    );
    await within(section).findByText("Unsaved change — saving…");

    backend.setOpenElsewhere(edit!.edit, false);
    backend.simulateSave(edit!.edit, "Saved after all");
    await waitFor(() => within(section).getByText("Saved to the Safe"));

    backend.finishProblem = "No space left on device";
    await fireEvent.click(within(section).getByRole("button", { name: "Done with README.txt" }));
    expect(await within(section).findByRole("alert")).toHaveTextContent("A file could not be read or written. No space left on device");
    backend.finishProblem = null;
    await fireEvent.click(within(section).getByRole("button", { name: "Done with README.txt" }));
    await waitFor(() => expect(screen.queryByRole("region", { name: "Open in other apps" })).not.toBeInTheDocument());
    expect(toggle).toHaveAccessibleDescription("Nothing is running.");
  });

  it("open with an app the desktop lists, or the default app when it lists none", async () => {
    const backend = app();
    await unlockDemo();
    const open = vi.spyOn(backend, "openInApp");
    let menu = await rowMenu("README.txt");
    await fireEvent.click(within(menu).getByRole("menuitem", { name: "Open with…" }));
    let dialog = await screen.findByRole("dialog", { name: "Open “README.txt” with" });
    const apps = within(dialog).getByRole("list", { name: "Apps for this file" });
    await within(apps).findByText("Notes");
    const buttons = within(apps).getAllByRole("button");
    expect(buttons.map((b) => b.textContent?.trim())).toEqual([
      "Default appWhat the desktop opens this kind of file with", "Text Editor", "Notes",
    ]);
    expect(document.activeElement).toBe(buttons[0]);
    await fireEvent.keyDown(buttons[0]!, { key: "ArrowDown" });
    await fireEvent.keyDown(buttons[1]!, { key: "ArrowDown" });
    expect(document.activeElement).toBe(buttons[2]);
    await fireEvent.keyDown(buttons[2]!, { key: "ArrowDown" });
    expect(document.activeElement).toBe(buttons[0]);
    await fireEvent.keyDown(buttons[0]!, { key: "End" });
    await fireEvent.click(document.activeElement!);
    await waitFor(() => expect(open).toHaveBeenCalledWith(expect.any(String), "org.demo.Notes.desktop"));
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();

    vi.spyOn(backend, "appsForItem").mockResolvedValue([]);
    menu = await rowMenu("Recovery plan.pdf");
    await fireEvent.click(within(menu).getByRole("menuitem", { name: "Open with…" }));
    dialog = await screen.findByRole("dialog", { name: "Open “Recovery plan.pdf” with" });
    await within(dialog).findByText("The desktop lists no app for this kind of file. The default app may still open it.");
    await fireEvent.click(within(dialog).getByRole("button", { name: /^Default app/ }));
    await waitFor(() => expect(open).toHaveBeenLastCalledWith(expect.any(String), null));
  });

  it("say plainly when the system has no place in memory for the copy", async () => {
    const backend = app();
    backend.secureArea = false;
    await unlockDemo();
    const menu = await rowMenu("README.txt");
    await fireEvent.click(within(menu).getByRole("menuitem", { name: "Open in default app" }));
    await within(toasts()).findByText(
      "Arca keeps files opened in other apps in memory only, and this system offers no such place (no desktop login). Use Export instead.",
    );
    expect(await backend.openEdits()).toEqual([]);
  });

  it("are named before locking, which waits for the person's answer", async () => {
    const backend = app();
    await unlockDemo();
    const lock = vi.spyOn(backend, "lockSafe");
    const readme = (await backend.listFolder({ folder: null, sort: "name", descending: false, offset: 0, limit: 200 })).rows.find((r) => r.name === "README.txt")!;
    await backend.openInApp(readme.id, null);
    await fireEvent.click(screen.getByRole("button", { name: "Lock" }));
    const dialog = await screen.findByRole("dialog", { name: "Files are still open in other apps" });
    expect(within(dialog).getByRole("listitem")).toHaveTextContent("README.txt");
    within(dialog).getByText("Arca takes back what was saved there and removes its copies. Changes not yet saved in those apps are lost.");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(lock).not.toHaveBeenCalled();
    expect(screen.getByRole("grid")).toBeInTheDocument();

    await fireEvent.keyDown(window, { key: "l", ctrlKey: true });
    await fireEvent.click(await screen.findByRole("button", { name: "Lock anyway" }));
    await screen.findByRole("button", { name: "Create a Safe" });
    expect(lock).toHaveBeenCalledOnce();
  });
});

describe("copies an earlier run left changed", () => {
  afterEach(() => clearNotices());

  it("are offered right after the unlock: taken back, deleted (errors shown in place), or left for later", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 20 });
    const notes = backend.seedLeftover(DEMO_SAFE_PATH, "/Documents/notes.md", { text: "Written after Arca stopped", modified: Date.UTC(2025, 2, 14, 9, 30) });
    backend.seedLeftover(DEMO_SAFE_PATH, "/README.txt", { modified: null });
    backend.seedLeftover(DEMO_SAFE_PATH, "/Inbox/Meeting minutes.txt");
    app(backend);
    await unlockDemo();
    const dialog = await screen.findByRole("dialog", { name: "Files changed when Arca stopped" });
    const copies = within(dialog).getByRole("list", { name: "Changed copies" });
    expect(within(copies).getAllByRole("listitem")).toHaveLength(3);
    within(copies).getByText("/Documents/notes.md");
    within(copies).getByText(/^Changed March 14, 2025/);
    within(copies).getByText("When it was changed is not known");
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Take “notes.md” back into the Safe" }));

    await fireEvent.click(within(dialog).getByRole("button", { name: "Take “notes.md” back into the Safe" }));
    await waitFor(() => expect(within(copies).getAllByRole("listitem")).toHaveLength(2));
    expect((await backend.itemDetails(notes.item)).row.size).toBe(26);
    await within(toasts()).findByText("“notes.md” was taken back into the Safe");
    expect(document.activeElement).toBe(within(dialog).getByRole("button", { name: "Take “README.txt” back into the Safe" }));

    vi.spyOn(backend, "settleLeftoverCopy").mockRejectedValueOnce(new BackendError({ kind: "io", message: "Permission denied" }));
    await fireEvent.click(within(dialog).getByRole("button", { name: "Delete the copy of “README.txt”" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("A file could not be read or written. Permission denied");
    expect(within(copies).getAllByRole("listitem")).toHaveLength(2);
    await fireEvent.click(within(dialog).getByRole("button", { name: "Delete the copy of “README.txt”" }));
    await waitFor(() => expect(within(copies).getAllByRole("listitem")).toHaveLength(1));

    await fireEvent.click(within(dialog).getByRole("button", { name: "Decide later" }));
    expect(screen.queryByRole("dialog")).not.toBeInTheDocument();
    backend.lock("user");
    await unlockDemo();
    const again = await screen.findByRole("dialog", { name: "Files changed when Arca stopped" });
    expect(within(again).getAllByRole("listitem").map((li) => li.querySelector(".name")?.textContent)).toEqual(["Meeting minutes.txt"]);
    await fireEvent.click(within(again).getByRole("button", { name: "Take “Meeting minutes.txt” back into the Safe" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).not.toBeInTheDocument());
  });
});

/** The parts of a DataTransfer the row drag touches. */
function transfer() {
  const data = new Map<string, string>();
  return {
    data,
    effectAllowed: "uninitialized",
    dropEffect: "none",
    get types() { return [...data.keys()]; },
    setData: (type: string, value: string) => void data.set(type, value),
    getData: (type: string) => data.get(type) ?? "",
  };
}

describe("dragging rows out of the window", () => {
  afterEach(() => clearNotices());

  it("offers them as files in RAM, exports once the drag leaves, and removes the copies when cancelled", async () => {
    const backend = app();
    const grid = await unlockDemo();
    const row = (await within(grid).findByText("README.txt")).closest<HTMLElement>("[role=row]")!;
    const dataTransfer = transfer();
    await waitFor(async () => {
      await fireEvent.dragStart(row, { dataTransfer });
      expect(dataTransfer.data.get("text/uri-list")).toMatch(new RegExp(`^file://${DEMO_DRAG_OUT_FOLDER}/[A-Za-z0-9]+/0/README\\.txt$`));
    });
    const drag = dataTransfer.data.get("text/uri-list")!.split("/").at(-3)!;
    expect(JSON.parse(dataTransfer.data.get(DRAG_TYPE)!)).toHaveLength(1);
    expect(dataTransfer.effectAllowed).toBe("copyMove");

    // jsdom has no DragEvent; a MouseEvent of that type carries the position.
    document.dispatchEvent(new MouseEvent("dragleave", { clientX: -3, clientY: 200, bubbles: true }));
    await waitFor(() => expect(backend.draggedOut.get(drag)).toEqual(["README.txt"]));
    await fireEvent.dragEnd(row, { dataTransfer });
    await waitFor(() => expect(backend.draggedOut.size).toBe(0));
  });

  it("never imports its own drag dropped back on the window, and moves it as a drop inside would", async () => {
    const backend = app();
    const grid = await unlockDemo();
    const importPaths = vi.spyOn(backend, "importPaths");
    const row = (await within(grid).findByText("README.txt")).closest<HTMLElement>("[role=row]")!;
    const documents = within(grid).getByText("Documents").closest<HTMLElement>("[role=row]")!;
    const dataTransfer = transfer();
    await waitFor(async () => {
      await fireEvent.dragStart(row, { dataTransfer });
      expect(dataTransfer.data.has("text/uri-list")).toBe(true);
    });
    const path = decodeURIComponent(dataTransfer.data.get("text/uri-list")!.slice("file://".length));
    // The native drop of Tauri, on the Documents row; no HTML5 drop came (WebKit).
    document.elementFromPoint = () => documents;
    backend.dropFiles([path], 100, 100);
    await fireEvent.dragEnd(row, { dataTransfer });
    await waitFor(() => expect(within(grid).queryByText("README.txt")).not.toBeInTheDocument());
    expect(importPaths).not.toHaveBeenCalled();
    const inside = await backend.listFolder({ folder: documents.dataset.dropFolder!, sort: "name", descending: false, offset: 0, limit: 200 });
    expect(inside.rows.map((r) => r.name)).toContain("README.txt");
    // A file of the desktop is still imported.
    backend.dropFiles(["/home/demo/Downloads/a.txt"], 100, 100);
    await waitFor(() => expect(importPaths).toHaveBeenCalledWith(["/home/demo/Downloads/a.txt"], documents.dataset.dropFolder));
  });
});
