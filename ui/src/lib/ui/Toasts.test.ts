import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/svelte";
import Toasts from "./Toasts.svelte";
import { notifyError } from "../state/notices.svelte";
import { BackendError } from "../backend/BackendError";

describe("notices", () => {
  it("say what went wrong from the error's kind, with the library's message only as details, and read it out", async () => {
    render(Toasts);
    notifyError(new BackendError({ kind: "nameClash", message: "an item named Photos exists in /" }));
    const text = "That name is taken in this folder.";
    expect(await screen.findByRole("status")).toHaveTextContent(text);
    const list = screen.getByRole("region", { name: "Notifications" });
    expect(list).toHaveTextContent(text);
    expect(screen.getByText("Details")).toBeInTheDocument();
    expect(screen.getByText("an item named Photos exists in /")).not.toBeVisible();
  });
});
