import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { MemoryBackend } from "../backend/memory/MemoryBackend";
import { DEMO_PASSWORD, DEMO_SAFE_PATH } from "../backend/memory/demo";
import { BrowserState } from "./browser.svelte";
import Harness from "./InfoPanel.harness.svelte";

describe("the info panel", () => {
  it("keeps a comment being written when the same item is read again (a tag added, a job's changes)", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 1 });
    await backend.unlockSafe(DEMO_SAFE_PATH, DEMO_PASSWORD);
    const ui = new BrowserState(backend, false);
    const [first] = await ui.rows.all();
    ui.select(0, "only");
    render(Harness, { backend, ui });
    await screen.findByText(first!.name, { selector: "p" });
    const comment = screen.getByRole("textbox", { name: "Comment" }) as HTMLTextAreaElement;
    const before = comment.value;
    await fireEvent.input(comment, { target: { value: "Written, not saved yet" } });
    ui.treeVersion += 1; // what every refresh does
    await new Promise((r) => setTimeout(r, 50));
    expect(comment.value).toBe("Written, not saved yet");
    // Leaving the box saves it; another refresh then shows the saved comment.
    await fireEvent.blur(comment);
    await waitFor(async () => expect((await backend.itemDetails(first!.id)).comment).toBe("Written, not saved yet"));
    ui.treeVersion += 1;
    await new Promise((r) => setTimeout(r, 50));
    expect(comment.value).toBe("Written, not saved yet");
    expect(before).not.toBe("Written, not saved yet");
  });
});
