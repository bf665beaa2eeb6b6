import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  DragOut, HTML5_DROP_WAIT_MS, LEAVE_GRACE_MS, dragIdIn, fileUri, isOwnDrop, leftByPosition, newDragId, uriList,
} from "./dragOut";

const FOLDER = "/run/user/1000/arca/run-7f3a/out";

/** The parts of a DataTransfer a dragstart handler touches. */
function transfer() {
  const data = new Map<string, string>();
  return {
    data,
    effectAllowed: "uninitialized",
    setData: (type: string, value: string) => void data.set(type, value),
    getData: (type: string) => data.get(type) ?? "",
  };
}

function setup() {
  let clock = 1_000;
  const calls: string[] = [];
  let exportDone: () => void = () => {};
  let exportFail: (cause: unknown) => void = () => {};
  const backend = {
    dragOut: vi.fn((ids: string[], drag: string) => {
      calls.push(`dragOut ${ids.join(",")} ${drag}`);
      return new Promise<void>((resolve, reject) => {
        exportDone = resolve;
        exportFail = reject;
      });
    }),
    dragOutDone: vi.fn(async (drag: string) => void calls.push(`dragOutDone ${drag}`)),
  };
  const move = vi.fn();
  const onerror = vi.fn();
  const folderAt = vi.fn((x: number): { folder: string | null } | null => (x < 100 ? { folder: "folder-1" } : null));
  const out = new DragOut({ backend, folderAt, move, onerror, now: () => clock });
  out.setFolder(`${FOLDER}/`);
  return {
    out, backend, move, onerror, folderAt, calls,
    tick: (ms: number) => (clock += ms),
    finishExport: () => exportDone(),
    failExport: (cause: unknown) => exportFail(cause),
  };
}

const inside = { clientX: 400, clientY: 300, relatedTarget: null };
const W = 1280;
const H = 800;

describe("drag-out URIs", () => {
  it("are file:// URIs of <folder>/<drag>/<index>/<name>, each segment percent-encoded, one a line with CR LF", () => {
    expect(fileUri("/run/user/1000/arca/out/Ab1/Tax return 2024 (final).pdf")).toBe(
      "file:///run/user/1000/arca/out/Ab1/Tax%20return%202024%20(final).pdf",
    );
    expect(uriList(FOLDER, "Ab1", ["a#1?.txt", "Grüße & mehr.md", "100%", "a#1?.txt"])).toBe(
      [
        `file://${FOLDER}/Ab1/0/a%231%3F.txt`,
        `file://${FOLDER}/Ab1/1/Gr%C3%BC%C3%9Fe%20%26%20mehr.md`,
        `file://${FOLDER}/Ab1/2/100%25`,
        `file://${FOLDER}/Ab1/3/a%231%3F.txt`,
      ].join("\r\n"),
    );
  });

  it("name each drag by letters and digits only, differently each time", () => {
    const ids = new Set(Array.from({ length: 50 }, () => newDragId()));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{24}$/);
  });

  it("tell the window's own drag from files of the desktop by the drag-out folder", () => {
    expect(isOwnDrop([`${FOLDER}/Ab1/a.txt`, `${FOLDER}/Ab1/b.txt`], FOLDER)).toBe(true);
    expect(isOwnDrop([`${FOLDER}/Ab1/a.txt`, "/home/me/b.txt"], FOLDER)).toBe(false);
    expect(isOwnDrop([`${FOLDER}-other/Ab1/a.txt`], FOLDER)).toBe(false);
    expect(isOwnDrop([FOLDER], FOLDER)).toBe(false);
    expect(isOwnDrop([], FOLDER)).toBe(false);
    expect(isOwnDrop([`${FOLDER}/Ab1/a.txt`], null)).toBe(false);
    expect(dragIdIn(`${FOLDER}/Ab1/sub/a.txt`, FOLDER)).toBe("Ab1");
  });

  it("take a dragleave for leaving the window outside the viewport, or at its edge with nothing entered", () => {
    expect(leftByPosition({ clientX: -1, clientY: 300, relatedTarget: document.body }, W, H)).toBe(true);
    expect(leftByPosition({ clientX: 400, clientY: 800, relatedTarget: document.body }, W, H)).toBe(true);
    expect(leftByPosition({ clientX: 0, clientY: 300, relatedTarget: null }, W, H)).toBe(true);
    expect(leftByPosition({ clientX: 1279, clientY: 300, relatedTarget: null }, W, H)).toBe(true);
    expect(leftByPosition({ clientX: 0, clientY: 300, relatedTarget: document.body }, W, H)).toBe(false);
    expect(leftByPosition(inside, W, H)).toBe(false);
  });
});

describe("a drag out of the window", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("offers the items as files and allows copy (out) as well as move (inside)", () => {
    const { out } = setup();
    const data = transfer();
    const id = out.start(data as unknown as DataTransfer, [{ id: "i1", name: "a b.txt" }, { id: "i2", name: "Photos" }]);
    expect(id).toMatch(/^[A-Za-z0-9]+$/);
    expect(data.data.get("text/uri-list")).toBe(`file://${FOLDER}/${id}/0/a%20b.txt\r\nfile://${FOLDER}/${id}/1/Photos`);
    expect(data.effectAllowed).toBe("copyMove");
  });

  it("offers nothing without a drag-out folder", () => {
    const { out, backend } = setup();
    out.setFolder(null);
    const data = transfer();
    expect(out.start(data as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }])).toBeNull();
    expect(data.data.size).toBe(0);
    out.leave({ clientX: -5, clientY: 10, relatedTarget: null }, W, H);
    expect(backend.dragOut).not.toHaveBeenCalled();
  });

  it("exports once, when the drag leaves the window, and keeps the copies when dropped outside", async () => {
    const { out, backend, finishExport } = setup();
    const id = out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }])!;
    out.entered();
    out.leave({ clientX: 1300, clientY: 200, relatedTarget: null }, W, H);
    out.leave({ clientX: 1300, clientY: 200, relatedTarget: null }, W, H);
    expect(backend.dragOut).toHaveBeenCalledOnce();
    expect(backend.dragOut).toHaveBeenCalledWith(["i1"], id);
    finishExport();
    out.end("copy");
    await vi.runAllTimersAsync();
    expect(backend.dragOutDone).not.toHaveBeenCalled();
  });

  it("does not export while the pointer goes from one element to the next inside", async () => {
    const { out, backend, tick } = setup();
    out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }]);
    // dragenter on the new element, then dragleave on the old one (WebKit names no relatedTarget).
    for (let i = 0; i < 5; i++) {
      tick(40);
      out.entered();
      out.leave(inside, W, H);
      await vi.advanceTimersByTimeAsync(40);
      out.over();
    }
    // The other order (leave, then enter) is taken back by the enter.
    out.leave(inside, W, H);
    tick(5);
    out.entered();
    await vi.advanceTimersByTimeAsync(LEAVE_GRACE_MS * 3);
    expect(backend.dragOut).not.toHaveBeenCalled();
  });

  it("takes a dragleave with nothing entered after it, at an inner position, for leaving (a window on top)", async () => {
    const { out, backend, tick } = setup();
    out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }]);
    out.entered();
    tick(500);
    out.leave({ clientX: 700, clientY: 500, relatedTarget: null }, W, H);
    await vi.advanceTimersByTimeAsync(LEAVE_GRACE_MS - 10);
    expect(backend.dragOut).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(20);
    expect(backend.dragOut).toHaveBeenCalledOnce();
  });

  it("removes the copies of a cancelled drag once its export has settled", async () => {
    const { out, backend, calls, finishExport } = setup();
    const id = out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }])!;
    out.leave({ clientX: -1, clientY: 10, relatedTarget: null }, W, H);
    out.end("none");
    await vi.advanceTimersByTimeAsync(10);
    expect(backend.dragOutDone).not.toHaveBeenCalled();
    finishExport();
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([`dragOut i1 ${id}`, `dragOutDone ${id}`]);
  });

  it("says when an export fails, and still removes what it left", async () => {
    const { out, backend, onerror, failExport } = setup();
    out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }]);
    out.leave({ clientX: -1, clientY: 10, relatedTarget: null }, W, H);
    const cause = new Error("disk full");
    failExport(cause);
    await vi.advanceTimersByTimeAsync(0);
    expect(onerror).toHaveBeenCalledWith(["a.txt"], cause);
    out.end("none");
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.dragOutDone).toHaveBeenCalledOnce();
  });

  it("removes the copies of a drag dropped on a folder inside (the HTML5 drop)", async () => {
    const { out, backend } = setup();
    const id = out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }])!;
    out.droppedInside();
    out.end("move");
    await vi.runAllTimersAsync();
    expect(backend.dragOutDone).toHaveBeenCalledExactlyOnceWith(id);
  });

  it("never imports its own drag from a native drop, and leaves the move to the HTML5 drop that came first", async () => {
    const { out, move, backend } = setup();
    const id = out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }])!;
    out.droppedInside();
    expect(out.ownDrop([`${FOLDER}/${id}/a.txt`], 10, 10)).toBe(true);
    out.end("move");
    await vi.runAllTimersAsync();
    expect(move).not.toHaveBeenCalled();
    expect(backend.dragOutDone).toHaveBeenCalledOnce();
    expect(out.ownDrop(["/home/me/Downloads/a.txt"], 10, 10)).toBe(false);
  });

  it("moves into the folder under the pointer when only the native drop came (after a short wait)", async () => {
    const { out, move, backend, folderAt } = setup();
    const id = out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }, { id: "folder-1", name: "Photos" }])!;
    out.end("none"); // WebKit: no HTML5 drop, so nothing took it
    expect(out.ownDrop([`${FOLDER}/${id}/a.txt`, `${FOLDER}/${id}/Photos`], 40, 60)).toBe(true);
    await vi.advanceTimersByTimeAsync(HTML5_DROP_WAIT_MS - 1);
    expect(move).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(folderAt).toHaveBeenCalledWith(40, 60);
    // As dnd.ts: a folder is not moved into itself.
    expect(move).toHaveBeenCalledExactlyOnceWith(["i1"], "folder-1");
    await vi.runAllTimersAsync();
    expect(backend.dragOutDone).toHaveBeenCalledExactlyOnceWith(id);
    // The same drop reported twice moves once.
    out.ownDrop([`${FOLDER}/${id}/a.txt`], 40, 60);
    await vi.runAllTimersAsync();
    expect(move).toHaveBeenCalledOnce();
  });

  it("does not take the dragleave that comes with a native drop for leaving the window", async () => {
    const { out, backend, move, tick } = setup();
    const id = out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }])!;
    out.entered();
    tick(400);
    out.leave(inside, W, H);
    await vi.advanceTimersByTimeAsync(5);
    out.ownDrop([`${FOLDER}/${id}/a.txt`], 40, 60);
    await vi.runAllTimersAsync();
    expect(backend.dragOut).not.toHaveBeenCalled();
    expect(move).toHaveBeenCalledExactlyOnceWith(["i1"], "folder-1");
  });

  it("waits for an HTML5 drop that follows the native one, and then does not move again", async () => {
    const { out, move } = setup();
    const id = out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }])!;
    out.ownDrop([`${FOLDER}/${id}/a.txt`], 40, 60);
    await vi.advanceTimersByTimeAsync(HTML5_DROP_WAIT_MS / 2);
    out.droppedInside();
    out.end("move");
    await vi.runAllTimersAsync();
    expect(move).not.toHaveBeenCalled();
  });

  it("moves nothing when the native drop is on no folder, and ignores drags it does not know", async () => {
    const { out, move, backend } = setup();
    const id = out.start(transfer() as unknown as DataTransfer, [{ id: "i1", name: "a.txt" }])!;
    expect(out.ownDrop([`${FOLDER}/${id}/a.txt`], 500, 60)).toBe(true);
    expect(out.ownDrop([`${FOLDER}/Unknown1/a.txt`], 40, 60)).toBe(true);
    await vi.runAllTimersAsync();
    expect(move).not.toHaveBeenCalled();
    expect(backend.dragOutDone).toHaveBeenCalledExactlyOnceWith(id);
  });
});
