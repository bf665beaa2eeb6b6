// Sync between devices in the whole window, against the in-memory backend (whose copies of a
// Safe keep in step through in-memory sync folders): the settings, adding a device, joining
// from a configuration, the decisions of sync, and files that wait for another device.
import { afterEach, describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import App from "../../App.svelte";
import type { Job } from "../bindings";
import { DEMO_S3, DEMO_SYNC_FOLDER, MemoryBackend } from "../backend/memory/MemoryBackend";
import { DEMO_SAFE_PATH, HOME } from "../backend/memory/demo";
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

const toasts = () => screen.getByRole("region", { name: "Notifications" });

/** Waits until the job ends (the memory backend's jobs move on timers). */
async function ended(backend: MemoryBackend, job: Job): Promise<Job> {
  return new Promise((resolve) => {
    void backend.onJob((j) => {
      if (j.id === job.id && j.state !== "running" && j.state !== "paused") resolve(j);
    });
  });
}

/** The demo Safe set up to sync through the demo's sync folder, synced once, and locked again:
 * what another device exported its configuration from. */
async function exportedDemo(backend: MemoryBackend): Promise<string> {
  await backend.unlockSafe(DEMO_SAFE_PATH, "demo");
  await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
  await ended(backend, await backend.syncNow());
  const config = `${HOME}/Desktop/Demo.arca-sync`;
  await backend.exportSyncConfig("demo", "for the laptop", config);
  await backend.lockSafe();
  return config;
}

async function openSyncSettings() {
  await fireEvent.click(screen.getByRole("button", { name: "Sync" }));
  return screen.findByRole("dialog", { name: "Settings" });
}

describe("sync", () => {
  afterEach(() => clearNotices());

  it("is set up in the settings: a folder, a run now with its report in words, and the schedule", async () => {
    const backend = app();
    await unlockDemo();
    const dialog = await openSyncSettings();
    expect(within(dialog).getByRole("tab", { name: "Sync" })).toHaveAttribute("aria-selected", "true");
    expect(within(dialog).getByText("Not set up yet")).toBeInTheDocument();
    expect(within(dialog).getByRole("button", { name: "Export sync configuration…" })).toBeDisabled();
    expect(within(dialog).queryByRole("button", { name: "Sync now" })).not.toBeInTheDocument();

    await fireEvent.click(await within(dialog).findByRole("button", { name: "Choose folder…" }));
    expect(await within(dialog).findByText(DEMO_SYNC_FOLDER)).toBeInTheDocument();
    expect(within(toasts()).getByText(`This Safe now syncs through ${DEMO_SYNC_FOLDER}`)).toBeInTheDocument();
    expect(within(dialog).getByText("Not synced yet on this device.")).toBeInTheDocument();

    await fireEvent.click(within(dialog).getByRole("button", { name: "Sync now" }));
    expect(await within(dialog).findByText("Syncing…")).toBeInTheDocument();
    const report = await within(dialog).findByRole("list", { name: "What the last sync did" });
    expect(within(report).getByText(/^\d+ changes sent$/)).toBeInTheDocument();
    // Every file, those in the trash too (their data goes along with them).
    expect(within(report).getByText(/^\d+ files sent \(\d+ MB\)$/)).toBeInTheDocument();
    expect(within(dialog).getByText(/^Last synced /)).toBeInTheDocument();
    expect(await within(toasts()).findByText(/^Sync finished: \d+ changes sent; \d+ files sent/)).toBeInTheDocument();

    // A second run finds nothing new.
    await fireEvent.click(within(dialog).getByRole("button", { name: "Sync now" }));
    await waitFor(() => expect(within(dialog).getByRole("list", { name: "What the last sync did" })).toHaveTextContent("Nothing new to send or receive"));

    // Automatic sync is on (every 15 minutes); off, the Safe syncs only when asked.
    const every = within(dialog).getByRole("checkbox", { name: /after unlocking and every/ });
    expect(every).toBeChecked();
    expect(within(dialog).getByLabelText("Minutes between syncs")).toHaveValue(15);
    await fireEvent.click(every);
    expect(await within(dialog).findByText(/only when you choose Sync now/)).toBeInTheDocument();
    expect((await backend.syncStatus()).everyMinutes).toBeNull();
    await fireEvent.click(every);
    const minutes = within(dialog).getByLabelText("Minutes between syncs");
    await fireEvent.input(minutes, { target: { value: "30" } });
    await fireEvent.change(minutes);
    await waitFor(async () => expect((await backend.syncStatus()).everyMinutes).toBe(30));
  });

  it("asks before it moves to another folder, which starts afresh there", async () => {
    const backend = app();
    await unlockDemo();
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    const dialog = await openSyncSettings();
    backend.dialogAnswers.syncTarget = "/media/demo/NAS/Arca";
    await fireEvent.click(await within(dialog).findByRole("button", { name: "Change folder…" }));
    const ask = await within(dialog).findByRole("group", { name: "Sync through another folder?" });
    expect(ask).toHaveTextContent("The next sync starts afresh in /media/demo/NAS/Arca");
    await fireEvent.click(within(ask).getByRole("button", { name: "Cancel" }));
    expect(within(dialog).getByText(DEMO_SYNC_FOLDER)).toBeInTheDocument();
    await fireEvent.click(within(dialog).getByRole("button", { name: "Change folder…" }));
    await fireEvent.click(await within(dialog).findByRole("button", { name: "Use this folder" }));
    expect(await within(dialog).findByText("/media/demo/NAS/Arca")).toBeInTheDocument();
  });

  it("says so when the sync folder cannot be reached", async () => {
    const backend = app();
    await unlockDemo();
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    backend.unreachable.add(DEMO_SYNC_FOLDER);
    const dialog = await openSyncSettings();
    await fireEvent.click(await within(dialog).findByRole("button", { name: "Sync now" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert).toHaveTextContent(/The last sync did not finish \(.*\): The sync folder or bucket could not be reached/);
    expect(within(toasts()).getByText(/The sync folder or bucket could not be reached/)).toBeInTheDocument();
  });

  it("exports the configuration only with the Safe Password: a wrong one writes nothing", async () => {
    const backend = app();
    await unlockDemo();
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    await fireEvent.click(await within(await openSyncSettings()).findByRole("button", { name: "Export sync configuration…" }));
    const dialog = await screen.findByRole("dialog", { name: "Add another device" });
    expect(dialog).toHaveTextContent("holds where the Safe syncs to (for a bucket, with its access key) and the Safe's keys, sealed under the Safe Password");
    expect(dialog).toHaveTextContent("Take the file to your other device in a safe way");
    const exportButton = within(dialog).getByRole("button", { name: "Export" });
    expect(exportButton).toBeDisabled();
    await fireEvent.click(within(dialog).getByRole("button", { name: "Choose…" }));
    expect(await within(dialog).findByText(`${HOME}/Desktop/Demo.arca-sync`)).toBeInTheDocument();
    await fireEvent.input(within(dialog).getByLabelText("Safe Password"), { target: { value: "not it" } });
    await fireEvent.input(within(dialog).getByLabelText("Note (optional)"), { target: { value: "for the laptop" } });
    await fireEvent.click(exportButton);
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("That password is not right");
    expect(backend.files.size).toBe(0);
    expect(screen.getByRole("dialog", { name: "Add another device" })).toBeInTheDocument();
  });

  it("exports the configuration to the chosen file with the right password", async () => {
    const backend = app();
    await unlockDemo();
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    // The device that sets the folder up is approved at its first sync.
    await ended(backend, await backend.syncNow());
    await fireEvent.click(await within(await openSyncSettings()).findByRole("button", { name: "Export sync configuration…" }));
    const dialog = await screen.findByRole("dialog", { name: "Add another device" });
    await fireEvent.click(within(dialog).getByRole("button", { name: "Choose…" }));
    await within(dialog).findByText(`${HOME}/Desktop/Demo.arca-sync`);
    await fireEvent.input(within(dialog).getByLabelText("Safe Password"), { target: { value: "demo" } });
    await fireEvent.click(within(dialog).getByRole("button", { name: "Export" }));
    expect(await within(toasts()).findByText(`Sync configuration saved to ${HOME}/Desktop/Demo.arca-sync`)).toBeInTheDocument();
    expect(screen.queryByRole("dialog", { name: "Add another device" })).not.toBeInTheDocument();
    expect([...backend.files.keys()]).toEqual([`${HOME}/Desktop/Demo.arca-sync`]);
  });

  it("joins a Safe from a configuration on the start screen: password, what it is, where the copy goes, then the first sync", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 20 });
    const config = await exportedDemo(backend);
    app(backend);
    // Once the start screen has chosen a recent Safe (it would take the place of the form).
    await screen.findByLabelText("Safe Password");
    await fireEvent.click(await screen.findByRole("button", { name: "Join a Safe from a sync configuration…" }));
    const form = await screen.findByRole("form", { name: "Join a Safe from another device" });
    const open = within(form).getByRole("button", { name: "Open the configuration" });
    expect(open).toBeDisabled();
    await fireEvent.click(within(form).getByRole("button", { name: "Choose…" }));
    expect(await within(form).findByText(config)).toBeInTheDocument();
    await fireEvent.input(within(form).getByLabelText("Safe Password"), { target: { value: "wrong" } });
    await fireEvent.click(open);
    expect(await within(form).findByRole("alert")).toHaveTextContent("That password is not right.");

    await fireEvent.input(within(form).getByLabelText("Safe Password"), { target: { value: "demo" } });
    await fireEvent.click(open);
    const facts = (await screen.findByRole("button", { name: "Join and sync" })).closest("form") as HTMLElement;
    expect(within(facts).getByText("Demo")).toBeInTheDocument();
    expect(within(facts).getByText("for the laptop")).toBeInTheDocument();
    expect(within(facts).getByText(DEMO_SYNC_FOLDER, { selector: "dd" })).toBeInTheDocument();
    const join = within(facts).getByRole("button", { name: "Join and sync" });
    expect(join).toBeDisabled();
    const where = within(facts).getByRole("group", { name: "Where the copy goes on this device" });
    await fireEvent.click(within(where).getByRole("button", { name: "Choose…" }));
    expect(await within(facts).findByText(`It will be ${HOME}/Second copy/Demo.arca`)).toBeInTheDocument();
    await fireEvent.click(join);

    // The copy opens and its first sync brings everything.
    expect(await screen.findByRole("heading", { level: 1, name: "Demo" })).toBeInTheDocument();
    const grid = await screen.findByRole("grid");
    expect(await within(grid).findByText("Documents", {}, { timeout: 3000 })).toBeInTheDocument();
    expect(await within(grid).findByText("README.txt")).toBeInTheDocument();
    expect(within(toasts()).getByText(/^“Demo” is on this device now\. Its files arrive with the first sync\. Then approve this device on one of your other devices/)).toBeInTheDocument();
    // After its first sync, it waits to be approved, and says so with its code.
    const code = (await backend.syncDevices())[0]!.code!;
    expect(await within(toasts()).findByText(`This device waits to be approved (code ${code}). On a computer that already syncs this Safe, approve it in Settings → Sync.`)).toBeInTheDocument();
    const status = await backend.syncStatus();
    expect(status.target).toEqual({ kind: "folder", path: DEMO_SYNC_FOLDER });
    expect(status.lastRun?.report?.operationsReceived).toBeGreaterThan(0);
    expect((await backend.recentSafes())[0]!.path).toBe(`${HOME}/Second copy/Demo.arca`);
  });

  it("asks where the sync folder is on this device when it is not where the other device has it", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 20 });
    await exportedDemo(backend);
    backend.unreachable.add(DEMO_SYNC_FOLDER);
    backend.dialogAnswers.syncTarget = "/run/media/me/USB/Arca sync";
    app(backend);
    // Once the start screen has chosen a recent Safe (it would take the place of the form).
    await screen.findByLabelText("Safe Password");
    await fireEvent.click(await screen.findByRole("button", { name: "Join a Safe from a sync configuration…" }));
    const form = await screen.findByRole("form", { name: "Join a Safe from another device" });
    await fireEvent.click(within(form).getByRole("button", { name: "Choose…" }));
    await within(form).findByText(`${HOME}/Desktop/Demo.arca-sync`);
    await fireEvent.input(within(form).getByLabelText("Safe Password"), { target: { value: "demo" } });
    await fireEvent.click(await within(form).findByRole("button", { name: "Open the configuration" }));
    expect(await screen.findByText(`${DEMO_SYNC_FOLDER} is not on this device. Choose where that folder is here.`)).toBeInTheDocument();
    const facts = screen.getByRole("button", { name: "Join and sync" }).closest("form") as HTMLElement;
    await fireEvent.click(within(within(facts).getByRole("group", { name: "Where the copy goes on this device" })).getByRole("button", { name: "Choose…" }));
    expect(within(facts).getByRole("button", { name: "Join and sync" })).toBeDisabled();
    await fireEvent.click(within(within(facts).getByRole("group", { name: "Where the sync folder is on this device" })).getByRole("button", { name: "Choose…" }));
    expect(await within(facts).findByText("/run/media/me/USB/Arca sync")).toBeInTheDocument();
    expect(within(facts).getByRole("button", { name: "Join and sync" })).toBeEnabled();
  });

  it("shows what sync decided after a run that had to, and shows the item in the Safe", async () => {
    const backend = app();
    const grid = await unlockDemo();
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    await ended(backend, await backend.syncNow());
    // The same file renamed here and on another device before they synced.
    const readme = (await backend.listFolder({ folder: null, sort: "name", descending: false, offset: 0, limit: 100 })).rows.find((r) => r.name === "README.txt")!;
    await backend.renameItem(readme.id, "README here.txt");
    backend.otherDeviceRenames(DEMO_SYNC_FOLDER, readme.id, "README there.txt");
    await ended(backend, await backend.syncNow());

    const banner = await screen.findByText("The last sync decided 1 case of changes made on two devices.");
    await fireEvent.click(within(banner.closest("[role=status]") as HTMLElement).getByRole("button", { name: "Review" }));
    const dialog = await screen.findByRole("dialog", { name: "What sync decided" });
    const list = await within(dialog).findByRole("list", { name: "Decisions of sync" });
    const entry = within(list).getAllByRole("listitem")[0]!;
    expect(entry).toHaveTextContent("Changed on two devices");
    expect(entry).toHaveTextContent("was changed on two devices before they synced; the other device's version was kept.");
    expect(entry).toHaveTextContent("/README there.txt");
    await fireEvent.click(within(entry).getByRole("button", { name: "Show “README there.txt” in the Safe" }));
    expect(screen.queryByRole("dialog", { name: "What sync decided" })).not.toBeInTheDocument();
    await waitFor(() => {
      const chosen = within(grid).getAllByRole("row").filter((r) => r.getAttribute("aria-selected") === "true");
      expect(chosen).toHaveLength(1);
      expect(chosen[0]).toHaveTextContent("README there.txt");
    });
    expect(screen.queryByText(/The last sync decided/)).not.toBeInTheDocument();

    // Also from the settings; once seen, the list can be cleared.
    const settings = await openSyncSettings();
    await fireEvent.click(within(settings).getByRole("button", { name: "Review what sync decided…" }));
    const again = await screen.findByRole("dialog", { name: "What sync decided" });
    expect(await within(again).findByText(/^Decided /)).toBeInTheDocument();
    await fireEvent.click(within(again).getByRole("button", { name: "Clear list" }));
    expect(await within(again).findByText("Sync has not had to decide anything.")).toBeInTheDocument();
    expect(await backend.syncConflicts()).toEqual([]);
  });

  it("greys a file whose data has not come from another device yet and does not open it, unlike one being imported", async () => {
    const backend = app();
    const grid = await unlockDemo();
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    backend.otherDeviceAddsFile(DEMO_SYNC_FOLDER, null, "Scanned on the laptop.pdf", 120_000, false);
    const settings = await openSyncSettings();
    await fireEvent.click(await within(settings).findByRole("button", { name: "Sync now" }));
    const report = await within(settings).findByRole("list", { name: "What the last sync did" });
    expect(report).toHaveTextContent("1 file still waiting for another device: it arrives once the device that has it syncs");
    await fireEvent.keyDown(settings, { key: "Escape" });

    const name = await within(grid).findByText("Scanned on the laptop.pdf");
    expect(name).toHaveAttribute("title", "Waiting for this file from another device");
    const row = name.closest("[role=row]") as HTMLElement;
    expect(row).toHaveClass("pending");
    expect(within(row).getByText("Waiting")).toBeInTheDocument();
    await fireEvent.click(name);
    await fireEvent.dblClick(name);
    expect(await within(toasts()).findByText("Waiting for this file from another device. It opens once a sync brings it.")).toBeInTheDocument();
    expect(screen.queryByRole("dialog", { name: /Preview of/ })).not.toBeInTheDocument();
    const info = screen.getByRole("complementary", { name: "Info" });
    expect(await within(info).findByText(/Waiting for this file from another device\. It arrives with a sync/)).toBeInTheDocument();
    const id = (await backend.listFolder({ folder: null, sort: "name", descending: false, offset: 0, limit: 100 })).rows.find((r) => r.name === "Scanned on the laptop.pdf")!.id;
    await expect(backend.previewUrl(id)).rejects.toMatchObject({ error: { kind: "waitingForSync" } });

    // An import in progress is another thing: "Importing", not waiting for a device.
    await fireEvent.dblClick(within(grid).getByText("Inbox"));
    const importing = (await within(grid).findByText("Scan in progress.pdf")).closest("[role=row]") as HTMLElement;
    expect(within(importing).getByText("Importing")).toBeInTheDocument();
    expect(within(importing).queryByText("Waiting")).not.toBeInTheDocument();

    // Its data arrives with the next sync.
    backend.otherDeviceDataArrives(DEMO_SYNC_FOLDER);
    await ended(backend, await backend.syncNow());
    await fireEvent.keyDown(grid, { key: "Backspace" });
    const arrived = await within(grid).findByText("Scanned on the laptop.pdf");
    await waitFor(() => expect(arrived.closest("[role=row]")).not.toHaveClass("pending"));
    expect(within(arrived.closest("[role=row]") as HTMLElement).queryByText("Waiting")).not.toBeInTheDocument();
  });

  it("syncs by itself after the unlock when the Safe has a folder and a schedule", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 20 });
    await backend.unlockSafe(DEMO_SAFE_PATH, "demo");
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    await backend.lockSafe();
    app(backend);
    await unlockDemo();
    await waitFor(async () => expect((await backend.syncStatus()).lastRun?.automatic).toBe(true), { timeout: 2000 });
    // Quietly: an automatic run that worked says nothing.
    expect(within(toasts()).queryByText(/^Sync finished/)).not.toBeInTheDocument();
  });
});

describe("devices", () => {
  afterEach(() => clearNotices());

  /** The demo Safe syncing through the demo folder (synced once, so approved), with `name` asking
   * to join since; the window open on it after a second sync. */
  async function asking(name = "anna-laptop") {
    const backend = app();
    await unlockDemo();
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    await ended(backend, await backend.syncNow());
    const device = backend.otherDeviceAsksToJoin(DEMO_SYNC_FOLDER, name);
    await ended(backend, await backend.syncNow());
    return { backend, device };
  }

  const syncButton = () => screen.getByRole("button", { name: "Sync" });

  it("shows a device asking to join on the Sync button and in Devices, and approves it after the codes were compared", async () => {
    const { backend, device } = await asking();
    // Said by the run, and shown on the Sync button while it waits.
    expect(await within(toasts()).findByText("Sync finished: 1 device asks to join this Safe")).toBeInTheDocument();
    await waitFor(() => expect(syncButton()).toHaveAccessibleDescription("1 device asks to join"));
    const dialog = await openSyncSettings();
    expect(within(dialog).getByRole("tab", { name: "Sync" })).toHaveAccessibleDescription("1 device asks to join");
    const list = within(dialog).getByRole("list", { name: "Devices that sync this Safe" });
    const rows = within(list).getAllByRole("listitem");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("desk");
    expect(rows[0]).toHaveTextContent("This device");
    expect(within(rows[0]!).queryByRole("button")).not.toBeInTheDocument();
    expect(rows[1]).toHaveTextContent("anna-laptop");
    expect(rows[1]).toHaveTextContent("Asks to join");
    expect(rows[1]).toHaveTextContent(device.code);

    // Approving shows the code to compare; Cancel has the focus, and changes nothing.
    await fireEvent.click(within(rows[1]!).getByRole("button", { name: "Approve anna-laptop" }));
    const confirm = await screen.findByRole("dialog", { name: "Approve “anna-laptop”?" });
    expect(confirm).toHaveAccessibleDescription(/Check that the other computer shows the same code/);
    expect(within(confirm).getByText(device.code)).toBeInTheDocument();
    expect(within(confirm).getByRole("button", { name: "Cancel" })).toHaveFocus();
    await fireEvent.click(within(confirm).getByRole("button", { name: "Cancel" }));
    expect((await backend.syncDevices())[1]!.state).toBe("waiting");

    await fireEvent.click(within(rows[1]!).getByRole("button", { name: "Approve anna-laptop" }));
    await fireEvent.click(within(await screen.findByRole("dialog", { name: "Approve “anna-laptop”?" })).getByRole("button", { name: "Approve" }));
    expect(await within(toasts()).findByText("“anna-laptop” is approved. It and your other devices learn of it as they sync.")).toBeInTheDocument();
    await waitFor(() => expect(within(list).getAllByRole("listitem")[1]).toHaveTextContent("Approved by desk"));
    expect(syncButton()).not.toHaveAttribute("aria-describedby");
    expect(within(dialog).getByRole("tab", { name: "Sync" })).not.toHaveAttribute("aria-describedby");
    // The sync that started took it to the folder.
    expect((await backend.syncDevices())[1]).toMatchObject({ state: "approved", decidedBy: "desk" });
  });

  it("says so when a sync in the background finds a device asking to join", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 20 });
    await backend.unlockSafe(DEMO_SAFE_PATH, "demo");
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    await ended(backend, await backend.syncNow());
    await backend.lockSafe();
    backend.otherDeviceAsksToJoin(DEMO_SYNC_FOLDER, "anna-laptop");
    app(backend);
    await unlockDemo();
    expect(await within(toasts()).findByText("“anna-laptop” asks to join this Safe. Check its code and approve or refuse it in Settings → Sync.", {}, { timeout: 2000 })).toBeInTheDocument();
    expect(syncButton()).toHaveAccessibleDescription("1 device asks to join");
  });

  it("asks before refusing or removing a device, saying what it means", async () => {
    const { backend } = await asking();
    const dialog = await openSyncSettings();
    const list = within(dialog).getByRole("list", { name: "Devices that sync this Safe" });
    await fireEvent.click(within(list).getByRole("button", { name: "Refuse anna-laptop" }));
    const refuse = await screen.findByRole("dialog", { name: "Refuse “anna-laptop”?" });
    expect(refuse).toHaveTextContent("None of your devices will accept anything it writes");
    expect(refuse).toHaveTextContent("It keeps what it has received already.");
    await fireEvent.click(within(refuse).getByRole("button", { name: "Refuse" }));
    expect(await within(toasts()).findByText("“anna-laptop” is refused. Your other devices learn of it as they sync.")).toBeInTheDocument();
    await waitFor(() => expect(within(list).getAllByRole("listitem")[1]).toHaveTextContent("Removed by desk"));
    expect(within(list).queryByRole("button", { name: /anna-laptop/ })).not.toBeInTheDocument();

    // An approved device can be removed; the dialog says what that does and does not do.
    const other = backend.otherDeviceAsksToJoin(DEMO_SYNC_FOLDER, "old-pc");
    backend.otherDeviceDecides(DEMO_SYNC_FOLDER, other.id, "approved", "desk");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Sync now" }));
    await fireEvent.click(await within(list).findByRole("button", { name: "Remove old-pc" }));
    const remove = await screen.findByRole("dialog", { name: "Remove “old-pc”?" });
    expect(remove).toHaveTextContent("Its changes from now on are undone on every device, and it no longer syncs this Safe");
    expect(remove).toHaveTextContent("It keeps its copy of the Safe and the Safe's keys");
    await fireEvent.click(within(remove).getByRole("button", { name: "Remove" }));
    expect(await within(toasts()).findByText("“old-pc” is removed. It and your other devices learn of it as they sync.")).toBeInTheDocument();
    expect((await backend.syncDevices()).find((d) => d.name === "old-pc")).toMatchObject({ state: "removed", decidedBy: "desk" });
  });

  it("keeps a decision that could not go to the other devices, and says so", async () => {
    const { backend } = await asking();
    backend.unreachable.add(DEMO_SYNC_FOLDER);
    const dialog = await openSyncSettings();
    await fireEvent.click(within(dialog).getByRole("button", { name: "Approve anna-laptop" }));
    await fireEvent.click(within(await screen.findByRole("dialog", { name: "Approve “anna-laptop”?" })).getByRole("button", { name: "Approve" }));
    expect(await within(toasts()).findByText(/^Your decision about “anna-laptop” is kept on this device and goes to the other devices with the next sync\. The sync folder or bucket could not be reached/)).toBeInTheDocument();
    // Approved here already; it goes with the next sync that reaches the folder.
    expect((await backend.syncDevices())[1]!.state).toBe("approved");
  });

  it("tells a device that joined that it waits to be approved, and why it cannot add devices yet", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 20 });
    const config = await exportedDemo(backend);
    await backend.joinSafe(config, "demo", `${HOME}/Second copy`, "Demo", null);
    await backend.lockSafe();
    app(backend);
    const field = await screen.findByLabelText("Safe Password");
    await fireEvent.input(field, { target: { value: "demo" } });
    await fireEvent.click(screen.getByRole("button", { name: "Unlock" }));
    await screen.findByRole("grid");
    await waitFor(async () => expect((await backend.syncStatus()).lastRun).not.toBeNull(), { timeout: 2000 });
    const code = (await backend.syncDevices())[0]!.code!;
    await waitFor(() => expect(syncButton()).toHaveAccessibleDescription("This device waits to be approved"));

    const dialog = await openSyncSettings();
    const banner = within(dialog).getByRole("status", { name: "This device waits to be approved" });
    expect(banner).toHaveTextContent(code);
    expect(banner).toHaveTextContent("Until then this device receives changes, but its own changes stay here.");
    const rows = within(within(dialog).getByRole("list", { name: "Devices that sync this Safe" })).getAllByRole("listitem");
    expect(rows[0]).toHaveTextContent("This device · Waits to be approved");
    // Not approved, it decides about no one.
    expect(within(dialog).queryByRole("button", { name: /^(Approve|Refuse|Remove) / })).not.toBeInTheDocument();

    // Adding a device from here fails with the library's reason.
    await fireEvent.click(within(dialog).getByRole("button", { name: "Export sync configuration…" }));
    const add = await screen.findByRole("dialog", { name: "Add another device" });
    await fireEvent.click(within(add).getByRole("button", { name: "Choose…" }));
    await within(add).findByText(`${HOME}/Desktop/Demo.arca-sync`);
    await fireEvent.input(within(add).getByLabelText("Safe Password"), { target: { value: "demo" } });
    await fireEvent.click(within(add).getByRole("button", { name: "Export" }));
    expect(await within(add).findByRole("alert")).toHaveTextContent(
      "This device cannot do that among the devices of this Safe. This device cannot add others before it is approved itself: sync it once, and approve it on a device already syncing this Safe if it asks.",
    );
  });

  it("says so when this device was removed", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 20 });
    const config = await exportedDemo(backend);
    const copy = `${HOME}/Second copy/Demo.arca`;
    await backend.joinSafe(config, "demo", `${HOME}/Second copy`, "Demo", null);
    await waitFor(async () => expect((await backend.syncStatus()).lastRun).not.toBeNull());
    backend.otherDeviceDecides(DEMO_SYNC_FOLDER, backend.deviceOf(copy).id, "removed", "desk");
    await backend.lockSafe();
    app(backend);
    const field = await screen.findByLabelText("Safe Password");
    await fireEvent.input(field, { target: { value: "demo" } });
    await fireEvent.click(screen.getByRole("button", { name: "Unlock" }));
    await screen.findByRole("grid");
    const dialog = await openSyncSettings();
    await fireEvent.click(await within(dialog).findByRole("button", { name: "Sync now" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent(
      "This device cannot do that among the devices of this Safe. This device was removed from the Safe's sync by desk: it keeps its copy of the Safe, but no longer syncs.",
    );
  });
});

describe("buckets and QR codes", () => {
  afterEach(() => clearNotices());

  const DESCRIBED = `s3://${DEMO_S3.bucket}/holiday at ${DEMO_S3.endpoint}`;

  /** The bucket form in the Sync tab, the bucket chosen as the kind of place. */
  async function bucketForm() {
    const dialog = await openSyncSettings();
    await fireEvent.click(await within(dialog).findByRole("radio", { name: "An S3-compatible bucket" }));
    return { dialog, form: within(dialog).getByRole("form", { name: "An S3-compatible bucket" }) };
  }

  async function fill(form: HTMLElement, fields: Record<string, string>) {
    for (const [label, value] of Object.entries(fields)) {
      await fireEvent.input(within(form).getByLabelText(label), { target: { value } });
    }
  }

  const demoBucket = {
    "Endpoint URL": DEMO_S3.endpoint,
    Region: DEMO_S3.region,
    Bucket: DEMO_S3.bucket,
    "Folder inside the bucket (optional)": "holiday",
    "Access key ID": DEMO_S3.accessKeyId,
    "Secret access key": DEMO_S3.secret,
  };

  it("sets up a bucket: each field checked, the bucket tried, and its secret never shown again", async () => {
    const backend = app();
    await unlockDemo();
    const opened = await bucketForm();
    const dialog = opened.dialog;
    let form = opened.form;
    expect(within(dialog).getByRole("radio", { name: "An S3-compatible bucket" })).toHaveAccessibleDescription(/Garage, MinIO/);
    expect(within(form).getByLabelText("Region")).toHaveValue("us-east-1");
    expect(within(form).getByLabelText("Region")).toHaveAccessibleDescription("us-east-1 for Amazon S3 (or your bucket's region), garage for Garage");
    expect(within(form).getByLabelText("Secret access key")).toHaveAttribute("type", "password");
    const save = within(form).getByRole("button", { name: "Check and use this bucket" });

    // Nothing filled in: each field says what it needs, and the first takes the focus.
    await fireEvent.click(save);
    const endpoint = within(form).getByLabelText("Endpoint URL");
    await waitFor(() => expect(endpoint).toHaveFocus());
    expect(endpoint).toHaveAttribute("aria-invalid", "true");
    expect(endpoint).toHaveAccessibleDescription("Give the endpoint URL: the address of the S3 service.");
    expect(within(form).getByLabelText("Bucket")).toHaveAccessibleDescription("Give the bucket's name.");
    expect(within(form).getByLabelText("Access key ID")).toHaveAccessibleDescription("Give the access key ID.");
    expect(within(form).getByLabelText("Secret access key")).toHaveAccessibleDescription(/^Give the secret access key\./);
    await fill(form, { ...demoBucket, "Endpoint URL": "s3.eu-central-1.demo.example", Bucket: "Arca" });
    await fireEvent.click(save);
    expect(endpoint).toHaveAccessibleDescription("The endpoint URL starts with https:// (or http:// for a server on your own network).");
    expect(within(form).getByLabelText("Bucket")).toHaveAccessibleDescription("Bucket names are 3 to 63 lower-case letters, digits, dots and hyphens.");
    expect((await backend.syncStatus()).target).toBeNull();
    // Changed, a field no longer says what was wrong with it.
    await fill(form, { Bucket: "arca-demo" });
    expect(within(form).getByLabelText("Bucket")).not.toHaveAttribute("aria-invalid");
    expect(within(form).getByLabelText("Bucket")).not.toHaveAccessibleDescription();

    // Well-formed, but the service cannot be reached, refuses the key, or has no such bucket.
    for (const [fields, said] of [
      [{ "Endpoint URL": "https://nas.local:3900" }, "The S3 service could not be used with these settings."],
      [{ "Secret access key": "not the secret" }, "The S3 service refused the access key."],
      [{ Bucket: "no-such-bucket" }, "The S3 service has no bucket of that name"],
    ] as const) {
      await fill(form, { ...demoBucket, ...fields });
      await fireEvent.click(save);
      const alert = await within(form).findByRole("alert");
      expect(alert).toHaveTextContent(said);
      expect(within(alert).getByText("Details")).toBeInTheDocument();
      expect(alert).not.toHaveTextContent("not the secret");
      expect((await backend.syncStatus()).target).toBeNull();
    }

    await fill(form, demoBucket);
    await fireEvent.click(save);
    expect(await within(toasts()).findByText(`This Safe now syncs through ${DESCRIBED}`)).toBeInTheDocument();
    expect(within(dialog).getByText(DESCRIBED)).toBeInTheDocument();
    // The secret is gone from the window.
    const status = await backend.syncStatus();
    expect(status.target).toEqual({ kind: "s3", endpoint: DEMO_S3.endpoint, region: DEMO_S3.region, bucket: DEMO_S3.bucket, prefix: "holiday", accessKeyId: DEMO_S3.accessKeyId });
    expect(JSON.stringify(status)).not.toContain(DEMO_S3.secret);

    await fireEvent.click(within(dialog).getByRole("button", { name: "Sync now" }));
    expect(await within(dialog).findByRole("list", { name: "What the last sync did" })).toHaveTextContent(/\d+ changes sent/);

    // The form folds away once the bucket is set; it opens again with the stored settings.
    expect(within(dialog).queryByRole("form", { name: "An S3-compatible bucket" })).not.toBeInTheDocument();
    await fireEvent.click(within(dialog).getByRole("button", { name: "Change bucket settings…" }));
    form = within(dialog).getByRole("form", { name: "An S3-compatible bucket" });
    expect(within(form).getByLabelText("Folder inside the bucket (optional)")).toHaveValue("holiday");
    const secret = within(form).getByLabelText("Secret access key");
    expect(secret).toHaveValue("");
    expect(secret).toHaveAttribute("placeholder", "Stored; leave empty to keep it");
    // Another folder in the bucket, the secret left empty: asked first, then the stored secret serves.
    await fill(form, { "Folder inside the bucket (optional)": "holiday-2" });
    await fireEvent.click(within(form).getByRole("button", { name: "Check and use this bucket" }));
    const ask = await within(form).findByRole("group", { name: "Sync through this bucket?" });
    expect(ask).toHaveTextContent(`The next sync starts afresh in s3://${DEMO_S3.bucket}/holiday-2 at ${DEMO_S3.endpoint}`);
    await fireEvent.click(within(ask).getByRole("button", { name: "Use this bucket" }));
    expect(await within(dialog).findByText(`s3://${DEMO_S3.bucket}/holiday-2 at ${DEMO_S3.endpoint}`)).toBeInTheDocument();
    // Another access key needs its own secret.
    await fireEvent.click(within(dialog).getByRole("button", { name: "Change bucket settings…" }));
    form = within(dialog).getByRole("form", { name: "An S3-compatible bucket" });
    await fill(form, { "Access key ID": "AKIAOTHERKEY" });
    const again = within(form).getByLabelText("Secret access key");
    expect(again).not.toHaveAttribute("placeholder");
    await fireEvent.click(within(form).getByRole("button", { name: "Check and use this bucket" }));
    expect(again).toHaveAccessibleDescription(/^Give the secret access key: the stored one is kept only while the endpoint and the access key ID stay the same\./);
  });

  it("asks before a folder gives way to a bucket, and back", async () => {
    const backend = app();
    await unlockDemo();
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    const { dialog, form } = await bucketForm();
    await within(dialog).findByText(DEMO_SYNC_FOLDER);
    await fill(form, demoBucket);
    await fireEvent.click(within(form).getByRole("button", { name: "Check and use this bucket" }));
    const ask = await within(form).findByRole("group", { name: "Sync through this bucket?" });
    await fireEvent.click(within(ask).getByRole("button", { name: "Cancel" }));
    expect(within(dialog).getByText(DEMO_SYNC_FOLDER)).toBeInTheDocument();
    await fireEvent.click(within(form).getByRole("button", { name: "Check and use this bucket" }));
    await fireEvent.click(await within(form).findByRole("button", { name: "Use this bucket" }));
    expect(await within(dialog).findByText(DESCRIBED)).toBeInTheDocument();
    // Back to a folder: the folder's own question.
    await fireEvent.click(within(dialog).getByRole("radio", { name: "A folder" }));
    await fireEvent.click(within(dialog).getByRole("button", { name: "Choose folder…" }));
    await fireEvent.click(await within(dialog).findByRole("button", { name: "Use this folder" }));
    expect(await within(dialog).findByText(DEMO_SYNC_FOLDER)).toBeInTheDocument();
  });

  /** The export dialog of the demo Safe, which syncs through the demo folder and is approved. */
  async function exportDialog(backend: MemoryBackend) {
    await unlockDemo();
    await backend.setSyncTarget({ kind: "folder", path: DEMO_SYNC_FOLDER });
    await ended(backend, await backend.syncNow());
    await fireEvent.click(await within(await openSyncSettings()).findByRole("button", { name: "Export sync configuration…" }));
    return screen.findByRole("dialog", { name: "Add another device" });
  }

  it("shows the configuration as a QR code after the Safe Password, warns about it, and drops it with the dialog", async () => {
    const backend = app();
    const dialog = await exportDialog(backend);
    const show = within(dialog).getByRole("button", { name: "Show as QR code" });
    expect(show).toBeDisabled();
    await fireEvent.input(within(dialog).getByLabelText("Safe Password"), { target: { value: "not it" } });
    await fireEvent.click(show);
    expect(await within(dialog).findByRole("alert")).toHaveTextContent("That password is not right");
    expect(within(dialog).queryByRole("img")).not.toBeInTheDocument();
    expect(backend.lastQrText).toBeNull();

    // (The wrong password's back-off, waited out.)
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await fireEvent.input(within(dialog).getByLabelText("Safe Password"), { target: { value: "demo" } });
    await fireEvent.click(show);
    const code = await within(dialog).findByRole("img", { name: "QR code of the sync configuration of “Demo”" });
    expect(code.getAttribute("src")).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    // Each of its 161 modules (153 and the quiet zone) on a whole number of pixels.
    expect(Number.parseFloat(code.style.width) % 161).toBe(0);
    await waitFor(() => expect(code.closest("figure")).toHaveFocus());
    expect(dialog).toHaveTextContent("Like the file, this code holds the Safe's keys, sealed under the Safe Password");
    expect(dialog).toHaveTextContent("It goes when you close this dialog.");
    expect(backend.files.size).toBe(0);

    // Hidden again: the form is back, as it was.
    await fireEvent.click(within(dialog).getByRole("button", { name: "Hide the QR code" }));
    expect(within(dialog).queryByRole("img")).not.toBeInTheDocument();
    expect(within(dialog).getByLabelText("Safe Password")).toHaveValue("demo");
    expect(within(dialog).getByRole("button", { name: "Show as QR code" })).toHaveFocus();
    await fireEvent.click(within(dialog).getByRole("button", { name: "Show as QR code" }));
    await within(dialog).findByRole("img");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Done" }));
    expect(screen.queryByRole("dialog", { name: "Add another device" })).not.toBeInTheDocument();
    expect(screen.queryByRole("img", { name: /^QR code/ })).not.toBeInTheDocument();
  });

  it("says when the configuration is too large for a QR code, and offers the file", async () => {
    const backend = app();
    backend.qrMaxCharacters = 2000;
    const dialog = await exportDialog(backend);
    await fireEvent.input(within(dialog).getByLabelText("Safe Password"), { target: { value: "demo" } });
    await fireEvent.click(within(dialog).getByRole("button", { name: "Show as QR code" }));
    expect(await within(dialog).findByRole("alert")).toHaveTextContent(
      "This configuration is too large for a QR code (2,140 characters; a code holds at most 2,000), because of the many devices that sync this Safe. Save it as a file instead.",
    );
    expect(within(dialog).queryByRole("img")).not.toBeInTheDocument();
    await fireEvent.click(within(dialog).getByRole("button", { name: "Choose…" }));
    await within(dialog).findByText(`${HOME}/Desktop/Demo.arca-sync`);
    await fireEvent.click(within(dialog).getByRole("button", { name: "Export" }));
    expect(await within(toasts()).findByText(`Sync configuration saved to ${HOME}/Desktop/Demo.arca-sync`)).toBeInTheDocument();
  });

  it("joins from a picture of the QR code, and says what a picture without one lacks", async () => {
    const backend = new MemoryBackend({ bigFolderSize: 20 });
    await backend.unlockSafe(DEMO_SAFE_PATH, "demo");
    await backend.setSyncTarget({ kind: "s3", endpoint: DEMO_S3.endpoint, region: DEMO_S3.region, bucket: DEMO_S3.bucket, prefix: "holiday", accessKeyId: DEMO_S3.accessKeyId, secretAccessKey: DEMO_S3.secret });
    await ended(backend, await backend.syncNow());
    await backend.syncConfigQr("demo", "shown to the laptop");
    await backend.lockSafe();
    const photo = `${HOME}/Pictures/Screenshot of the code.png`;
    backend.picture(photo, backend.lastQrText);
    backend.picture(`${HOME}/Pictures/Holiday.jpg`, null);
    backend.picture(`${HOME}/Pictures/Wi-Fi.png`, "WIFI:S:home;T:WPA;P:guest;;");
    app(backend);
    await screen.findByLabelText("Safe Password");
    await fireEvent.click(await screen.findByRole("button", { name: "Join a Safe from a sync configuration…" }));
    const form = await screen.findByRole("form", { name: "Join a Safe from another device" });
    expect(form).toHaveTextContent("With that file (or a photo or screenshot of the code) and the Safe Password");
    const chooser = within(form).getByRole("group", { name: "Sync configuration: its file, or a picture of its QR code" });
    await fireEvent.input(within(form).getByLabelText("Safe Password"), { target: { value: "demo" } });
    for (const [picture, said] of [
      ["Holiday.jpg", "No QR code could be read in this picture. Take a sharper photo or screenshot of the whole code, or use the configuration file."],
      ["Wi-Fi.png", "The QR code in this picture is not an Arca sync configuration."],
    ]) {
      backend.dialogAnswers.syncConfig = `${HOME}/Pictures/${picture}`;
      await fireEvent.click(within(chooser).getByRole("button", { name: "Choose…" }));
      await within(form).findByText(`${HOME}/Pictures/${picture}`);
      await fireEvent.click(within(form).getByRole("button", { name: "Open the configuration" }));
      expect(await within(form).findByRole("alert")).toHaveTextContent(said);
    }
    backend.dialogAnswers.syncConfig = photo;
    await fireEvent.click(within(chooser).getByRole("button", { name: "Choose…" }));
    await within(form).findByText(photo);
    await fireEvent.click(within(form).getByRole("button", { name: "Open the configuration" }));
    const facts = (await screen.findByRole("button", { name: "Join and sync" })).closest("form") as HTMLElement;
    expect(within(facts).getByText("shown to the laptop")).toBeInTheDocument();
    expect(within(facts).getByText(DESCRIBED, { selector: "dd" })).toBeInTheDocument();
    // A bucket is the same place on every device: nothing to choose for it here.
    expect(within(facts).queryByRole("group", { name: "Where the sync folder is on this device" })).not.toBeInTheDocument();
    await fireEvent.click(within(within(facts).getByRole("group", { name: "Where the copy goes on this device" })).getByRole("button", { name: "Choose…" }));
    await within(facts).findByText(`It will be ${HOME}/Second copy/Demo.arca`);
    await fireEvent.click(within(facts).getByRole("button", { name: "Join and sync" }));
    const grid = await screen.findByRole("grid");
    expect(await within(grid).findByText("README.txt", {}, { timeout: 3000 })).toBeInTheDocument();
    expect((await backend.syncStatus()).target).toMatchObject({ kind: "s3", bucket: DEMO_S3.bucket, prefix: "holiday" });
  });
});
