// The demo world of the mock: a Safe full of ordinary things (photos, papers, music, a folder
// of 100,000 scans, a trash), a few Safes that cannot be opened, and a backup of the demo Safe.
import { MemSafe, newItem, type MemItem } from "./safe";
import { DEMO_RECOVERY_KEY, normalise } from "./recoveryKey";

export const HOME = "/home/demo";
export const DEMO_SAFE_PATH = `${HOME}/Documents/Demo.arca`;
export const DEMO_PASSWORD = "demo";
export const DEMO_BACKUP = "/media/demo/Backup/Arca";
export const BIG_FOLDER = "Scans";
export const BIG_FOLDER_SIZE = 100_000;

const DAY = 86_400_000;

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 2246822507) + 0x9e3779b9) >>> 0;
    return s / 4294967296;
  };
}

export function buildDemoSafe(bigFolderSize = BIG_FOLDER_SIZE, now = Date.now()): MemSafe {
  const safe = new MemSafe("5f0c2a7e-1b4d-4c8e-9a3f-6d2e8b7c1a90", "Demo", DEMO_SAFE_PATH, DEMO_PASSWORD);
  safe.recoveryKeys.add(normalise(DEMO_RECOVERY_KEY));
  safe.lastOpenedMs = now - 2 * DAY;
  const rnd = random(7);
  const ago = (days: number) => now - Math.round(days * DAY);
  const folder = (parent: MemItem | null, name: string, days = 40): MemItem =>
    safe.add(newItem(parent?.id ?? null, name, "folder", { addedMs: ago(days), createdMs: ago(days) }));
  const file = (parent: MemItem | null, name: string, size: number, days: number, extra: Partial<MemItem> = {}) =>
    safe.add(newItem(parent?.id ?? null, name, "file", {
      size, modifiedMs: ago(days + 3), addedMs: ago(days), createdMs: ago(days + 3), ...extra,
    }));

  const photos = folder(null, "Photos", 200);
  const holiday = folder(photos, "Holiday 2024", 120);
  for (let i = 1; i <= 24; i++) {
    file(holiday, `IMG_${String(4100 + i).padStart(4, "0")}.jpg`, 2_000_000 + Math.round(rnd() * 4_000_000), 120 - i / 4, {
      tags: i % 5 === 0 ? ["travel", "family"] : ["travel"],
    });
  }
  const family = folder(photos, "Family", 300);
  for (let i = 1; i <= 12; i++) file(family, `family-${i}.jpg`, 1_500_000 + Math.round(rnd() * 3_000_000), 300 - i * 10, { tags: ["family"] });
  file(photos, "beach.jpg", 3_412_554, 9, { favorite: true, tags: ["travel"], comment: "Sunset at the north beach, last evening of the trip." });
  file(photos, "diagram.png", 284_112, 30);

  const documents = folder(null, "Documents", 400);
  const taxes = folder(documents, "Taxes 2024", 60);
  for (const name of ["Income statement.pdf", "Donations.pdf", "Receipts summary.csv"]) {
    file(taxes, name, 120_000 + Math.round(rnd() * 800_000), 60, { tags: ["tax"] });
  }
  const contracts = folder(documents, "Contracts", 380);
  file(contracts, "Apartment lease.pdf", 1_204_332, 380, { tags: ["important"], favorite: true });
  file(contracts, "Car insurance.pdf", 402_118, 200, { tags: ["important"] });
  file(documents, "Passport scan.pdf", 2_811_204, 500, { tags: ["important"], favorite: true, comment: "Valid until 2031." });
  file(documents, "notes.md", 4_812, 1, { comment: "Things to do before the move." });
  file(documents, "budget.csv", 18_204, 3, { tags: ["receipts"] });

  const music = folder(null, "Music", 250);
  for (const name of ["Morning chime.wav", "Piano sketch.mp3", "Field recording.ogg"]) {
    file(music, name, 4_000_000 + Math.round(rnd() * 6_000_000), 250);
  }
  const videos = folder(null, "Videos", 100);
  file(videos, "First steps.mp4", 148_220_114, 100, { tags: ["family"], favorite: true });
  file(videos, "Drone over the bay.webm", 92_004_551, 80, { tags: ["travel"] });

  const inbox = folder(null, "Inbox", 2);
  file(inbox, "Scan in progress.pdf", 8_400_000, 0, { content: "pending" });
  file(inbox, "Lost attachment.docx", 84_211, 5, { content: "missing" });
  file(inbox, "Meeting minutes.txt", 9_812, 1);

  const scans = folder(null, BIG_FOLDER, 700);
  for (let i = 1; i <= bigFolderSize; i++) {
    const day = 700 - (i / bigFolderSize) * 690;
    safe.add(newItem(scans.id, `scan-${String(i).padStart(6, "0")}.jpg`, "file", {
      size: 200_000 + ((i * 7919) % 900_000),
      modifiedMs: ago(day + 1), addedMs: ago(day), createdMs: ago(day + 1),
    }));
  }

  file(null, "README.txt", 1_208, 400, { comment: "How this Safe is organised." });
  file(null, "Recovery plan.pdf", 98_554, 30, { tags: ["important"] });

  const old = file(null, "Old draft.docx", 52_100, 90);
  old.trashedMs = ago(4);
  const stuff = folder(null, "Old stuff", 500);
  file(stuff, "printer-driver.zip", 12_554_000, 500);
  file(stuff, "wallpaper.jpg", 1_204_000, 500);
  stuff.trashedMs = ago(12);
  safe.touch(null);
  return safe;
}

/** Safes in the recent list that cannot be opened, each for its own reason. */
export const BROKEN_RECENTS = [
  { path: "/media/demo/OLD-USB/Travel.arca", name: "Travel", status: "missing" as const },
  { path: `${HOME}/Downloads`, name: "Downloads", status: "notASafe" as const },
  { path: `${HOME}/Shared/Future.arca`, name: "Future", status: "newer" as const },
];

export interface SmallSafe {
  path: string;
  name: string;
  password: string;
  readOnlyReason?: string;
  damagedDatabase?: boolean;
  /** A backup of it at this folder. */
  backup?: string;
}

/** Two more Safes that open: one on read-only media, one whose database needs a rebuild. */
export const EXTRA_SAFES: SmallSafe[] = [
  { path: "/media/demo/DVD/Archive 2019.arca", name: "Archive 2019", password: "demo", readOnlyReason: "it is on read-only media" },
  { path: `${HOME}/Documents/Accounts.arca`, name: "Accounts", password: "demo", damagedDatabase: true, backup: "/media/demo/Backup/Accounts" },
];

export function buildSmallSafe(spec: SmallSafe, now = Date.now()): MemSafe {
  const id = `a1b2c3d4-0000-4000-8000-${String(spec.name.length).padStart(12, "0")}`;
  const safe = new MemSafe(id, spec.name, spec.path, spec.password);
  safe.readOnlyReason = spec.readOnlyReason ?? null;
  safe.damagedDatabase = spec.damagedDatabase ?? false;
  safe.lastOpenedMs = now - 20 * DAY;
  const folder = safe.add(newItem(null, "Statements", "folder", { addedMs: now - 400 * DAY }));
  for (let m = 1; m <= 12; m++) {
    safe.add(newItem(folder.id, `2019-${String(m).padStart(2, "0")}.pdf`, "file", { size: 80_000 + m * 4_000, modifiedMs: now - (400 - m * 30) * DAY, addedMs: now - 400 * DAY }));
  }
  safe.add(newItem(null, "Summary.txt", "file", { size: 2_048, modifiedMs: now - 390 * DAY, addedMs: now - 390 * DAY }));
  return safe;
}
