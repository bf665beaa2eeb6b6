import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import type { Job, OpenEdit } from "../bindings";
import { MemoryBackend } from "../backend/memory/MemoryBackend";
import { clearJobs, upsertJob } from "../state/jobs.svelte";
import { clearEdits } from "../state/edits.svelte";
import Harness from "./JobsPanel.harness.svelte";

function job(fields: Partial<Job>): Job {
  return {
    id: "job-1", kind: "import", title: "Garden", state: "running", phase: "encrypting", current: "/home/me/Garden/IMG_0004.jpg",
    filesDone: 4, filesTotal: 37, bytesDone: 17_700_000, bytesTotal: 116_000_000, bytesPerSecond: 42_000_000, secondsLeft: 150,
    problems: [], error: null, summary: null, ...fields,
  };
}

describe("the jobs panel", () => {
  afterEach(() => {
    clearJobs();
    clearEdits();
  });

  it("shows phase, files, bytes, rate and time left, and pauses through the backend", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 1 });
    const pause = vi.spyOn(backend, "pauseJob").mockResolvedValue();
    upsertJob(job({}));
    render(Harness, { backend });
    const panel = screen.getByRole("region", { name: "Activity" });
    expect(panel).toHaveTextContent("Encrypting");
    expect(panel).toHaveTextContent("4 of 37 files · 17.7 MB / 116 MB · 3 minutes left");
    expect(panel).toHaveTextContent("42 MB/s");
    expect(panel).toHaveTextContent("/home/me/Garden/IMG_0004.jpg");
    await fireEvent.click(within(panel).getByRole("button", { name: "Pause Garden" }));
    expect(pause).toHaveBeenCalledWith("job-1");
  });

  it("lists problems as they come and says how a finished job ended, in its own words", async () => {
    upsertJob(job({
      state: "finished", phase: "finished", filesDone: 37,
      problems: [{ kind: "unreadable", path: "/home/me/Garden/desktop.lock", message: "Permission denied (os error 13)" }],
      summary: "36 files imported",
    }));
    upsertJob(job({ id: "job-2", kind: "backup", title: "/media/usb", state: "failed", error: { kind: "diskFull", message: "No space left on device" } }));
    render(Harness, { backend: new MemoryBackend({ bigFolderSize: 1 }) });
    expect(screen.getByText("36 files imported")).toBeInTheDocument();
    expect(screen.getByText("1 item could not be done")).toBeInTheDocument();
    expect(screen.getByText("Could not read")).toBeInTheDocument();
    expect(screen.getByText("The disk is full. Free some space and try again.")).toBeInTheDocument();
    expect(screen.queryByText("No space left on device")).not.toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Remove Garden from the list" })).toBeInTheDocument();
  });

  it("lists the files open in other apps with where each save is, asking again while shown", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const backend = new MemoryBackend({ bigFolderSize: 1 });
    const edit = (name: string, fields: Partial<OpenEdit>): OpenEdit => ({
      edit: `e-${name}`, item: `i-${name}`, name, path: `/Documents/${name}`, unsaved: false, openElsewhere: false, ...fields,
    });
    const list = [edit("a.md", { unsaved: true, openElsewhere: true }), edit("b.odt", { openElsewhere: true }), edit("c.txt", {})];
    const asked = vi.spyOn(backend, "openEdits").mockImplementation(async () => list);
    render(Harness, { backend });
    const section = await screen.findByRole("region", { name: "Open in other apps" });
    const items = within(section).getAllByRole("listitem");
    expect(items.map((li) => li.querySelector(".status")?.textContent)).toEqual([
      "Unsaved change — saving…", "Open in another app", "Saved to the Safe",
    ]);
    expect(within(items[1]!).getByText("/Documents/b.odt")).toBeInTheDocument();
    expect(screen.queryByText("Nothing is running.")).not.toBeInTheDocument();
    const before = asked.mock.calls.length;
    await vi.advanceTimersByTimeAsync(3000);
    expect(asked.mock.calls.length).toBe(before + 1);
    vi.useRealTimers();
  });
});
