import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "./App.svelte";
import { MemoryBackend } from "./lib/backend/memory/MemoryBackend";

function app() {
  const backend = new MemoryBackend({ bigFolderSize: 50 });
  render(App, { backend });
  return backend;
}

async function unlockDemo(password = "demo") {
  const field = await screen.findByLabelText("Safe Password");
  await fireEvent.input(field, { target: { value: password } });
  await fireEvent.click(screen.getByRole("button", { name: "Unlock" }));
}

describe("the window", () => {
  it("lists recent Safes with what is wrong with those that cannot open", async () => {
    app();
    const list = await screen.findByRole("list", { name: "Your Safes" });
    await within(list).findByText("Demo");
    expect(within(list).getByText("Not found")).toBeInTheDocument();
    expect(within(list).getByText("Not a Safe")).toBeInTheDocument();
    expect(within(list).getByText("Needs a newer Arca")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Create a Safe" })).toBeInTheDocument();
  });

  it("shows a wrong password as such, and the unlock button waits out the back-off", async () => {
    app();
    await unlockDemo("nope");
    expect(await screen.findByRole("alert")).toHaveTextContent("That password is not right");
    expect(await screen.findByRole("button", { name: /Try again in 0:0[12]/ })).toBeDisabled();
  });

  it("opens the Safe into the browser, and returns to the start screen on lock", async () => {
    const backend = app();
    await unlockDemo();
    const grid = await screen.findByRole("grid");
    await within(grid).findByText("Documents");
    expect(grid).toHaveAttribute("aria-multiselectable", "true");
    expect(screen.getByRole("navigation", { name: "Places" })).toHaveTextContent("Favorites");
    backend.lock("idle");
    expect(await screen.findByRole("button", { name: "Create a Safe" })).toBeInTheDocument();
    expect(screen.queryByRole("grid")).not.toBeInTheDocument();
    expect(await screen.findByText("The Safe was locked because it was not used for a while.")).toBeInTheDocument();
  });

  it("selects rows with the keyboard and shows the chosen item's details", async () => {
    app();
    await unlockDemo();
    const grid = await screen.findByRole("grid");
    await within(grid).findByText("README.txt");
    grid.focus();
    await fireEvent.keyDown(grid, { key: "End" });
    const rows = within(grid).getAllByRole("row").filter((r) => r.getAttribute("aria-selected") === "true");
    expect(rows).toHaveLength(1);
    expect(rows[0]).toHaveTextContent("Recovery plan.pdf");
    expect(await screen.findByText("/Recovery plan.pdf")).toBeInTheDocument();
    await fireEvent.keyDown(grid, { key: "ArrowUp", shiftKey: true });
    expect(within(grid).getAllByRole("row").filter((r) => r.getAttribute("aria-selected") === "true")).toHaveLength(2);
    expect(await screen.findByText("2 items chosen")).toBeInTheDocument();
  });

  it("goes into a folder with Enter and back up with Backspace", async () => {
    app();
    await unlockDemo();
    const grid = await screen.findByRole("grid");
    await within(grid).findByText("Documents");
    grid.focus();
    await fireEvent.keyDown(grid, { key: "Home" });
    await fireEvent.keyDown(grid, { key: "Enter" });
    await within(screen.getByRole("navigation", { name: "Location" })).findByText("Documents");
    await within(grid).findByText("Passport scan.pdf");
    await fireEvent.keyDown(grid, { key: "Backspace" });
    await within(grid).findByText("README.txt");
  });

  it("searches names, tags and comments and shows where each hit is", async () => {
    app();
    await unlockDemo();
    await screen.findByRole("grid");
    await fireEvent.input(screen.getByLabelText("Search names, tags and comments"), { target: { value: "sunset" } });
    const grid = screen.getByRole("grid");
    await within(grid).findByText("beach.jpg", {}, { timeout: 2000 });
    expect(within(grid).getByText("/Photos")).toBeInTheDocument();
  });

  it("offers an interrupted import for resume after the next unlock", async () => {
    const backend = app();
    await unlockDemo();
    await screen.findByRole("grid");
    await backend.importPaths(["/home/demo/Pictures/Garden"], null);
    backend.lock("user");
    await unlockDemo();
    await waitFor(() => expect(screen.getByText(/An import of Garden was interrupted/)).toBeInTheDocument());
    expect(screen.getByRole("button", { name: "Resume" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Abandon" })).toBeInTheDocument();
  });

  it("keeps files a file manager hands over until the person adds them to the folder they chose", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 50 });
    backend.handOver({ files: ["/home/demo/Pictures/beach.jpg", "/home/demo/Letters"], missing: ["/home/demo/gone.txt"] });
    render(App, { backend });
    expect(await screen.findByText(/2 items are waiting to be added to a Safe \(beach\.jpg, Letters\): unlock one/)).toBeInTheDocument();
    expect(await screen.findAllByText("Not found, so not handed to Arca: /home/demo/gone.txt")).not.toHaveLength(0);
    await unlockDemo();
    const grid = await screen.findByRole("grid");
    await fireEvent.dblClick(await within(grid).findByText("Documents"));
    await screen.findByText(/2 items are waiting to be added to this Safe: beach\.jpg, Letters\. Add them to “Documents”\?/);
    await fireEvent.click(screen.getByRole("button", { name: "Add here" }));
    await within(grid).findByText("beach.jpg");
    await within(grid).findByText("Letters");
    expect(screen.queryByRole("button", { name: "Add here" })).not.toBeInTheDocument();
    // Handed over while the Safe is open: the same question, nothing imported unasked.
    backend.handOver({ files: ["/home/demo/Pictures/dune.jpg"] });
    await screen.findByText(/dune\.jpg is waiting to be added to this Safe/);
    await fireEvent.click(screen.getByRole("button", { name: "Dismiss" }));
    expect(screen.queryByText(/waiting to be added/)).not.toBeInTheDocument();
    expect(within(grid).queryByText("dune.jpg")).not.toBeInTheDocument();
  });

  it("chooses a handed-over Safe for unlocking, and asks before locking the one that is open", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 50 });
    backend.handOver({ safe: "/media/demo/DVD/Archive 2019.arca" });
    render(App, { backend });
    expect(await screen.findByRole("heading", { level: 1, name: "Archive 2019" })).toBeInTheDocument();
    await unlockDemo();
    await screen.findByRole("grid");
    // That Safe is on read-only media: files handed over wait, and cannot be added there.
    backend.handOver({ files: ["/home/demo/Pictures/dune.jpg"] });
    expect(await screen.findByRole("button", { name: "Add here" })).toBeDisabled();
    backend.handOver({ safe: "/home/demo/Documents/Demo.arca" });
    const dialog = await screen.findByRole("dialog", { name: "Open another Safe?" });
    expect(dialog).toHaveTextContent("“Archive 2019” is unlocked. Lock it and open “Demo”?");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Lock and open" }));
    expect(await screen.findByRole("heading", { level: 1, name: "Demo" })).toBeInTheDocument();
    expect(screen.queryByRole("grid")).not.toBeInTheDocument();
  });

  it("after its page process ended, starts on the Safe that was open and says it was locked", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 50 });
    backend.handOver({ safe: "/home/demo/Documents/Demo.arca", pageRestarted: true });
    render(App, { backend });
    expect(await screen.findByRole("heading", { level: 1, name: "Demo" })).toBeInTheDocument();
    expect(await screen.findAllByText("The window stopped unexpectedly and was loaded again. Arca locked the Safe first: unlock it to go on.")).not.toHaveLength(0);
    expect(screen.getByLabelText("Safe Password")).toBeInTheDocument();
  });
});
