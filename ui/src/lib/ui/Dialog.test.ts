import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import ConfirmDialog from "./ConfirmDialog.svelte";

describe("a dialog", () => {
  it("takes the focus, closes on Escape, and gives the focus back", async () => {
    const opener = document.createElement("button");
    opener.textContent = "Empty trash…";
    document.body.append(opener);
    opener.focus();
    const oncancel = vi.fn();
    const { unmount } = render(ConfirmDialog, {
      title: "Empty the trash?",
      message: "This cannot be undone.",
      confirm: "Empty trash",
      danger: true,
      onconfirm: () => {},
      oncancel,
    });
    const dialog = screen.getByRole("dialog", { name: "Empty the trash?" });
    expect(dialog).toHaveAttribute("aria-modal", "true");
    expect(dialog).toHaveAccessibleDescription("This cannot be undone.");
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Empty trash" }));
    await fireEvent.keyDown(document.activeElement!, { key: "Escape" });
    expect(oncancel).toHaveBeenCalledOnce();
    unmount();
    expect(document.activeElement).toBe(opener);
    opener.remove();
  });
});
