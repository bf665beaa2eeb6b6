// One Safe of the mock: its items with a child index, listing, paths and the trash rule
// (an item is in the trash when it or a folder above it was trashed).
import type { Content, Kind, Row, SortKey } from "../../bindings";

export interface MemItem {
  id: string;
  parent: string | null;
  name: string;
  kind: Kind;
  size: number;
  modifiedMs: number | null;
  addedMs: number;
  createdMs: number | null;
  /** Set on the item that was put in the trash (not on what is inside it). */
  trashedMs: number | null;
  favorite: boolean;
  tags: string[];
  content: Content;
  comment: string;
  /** What another app saved into it (the demo's text files; shown by the preview). */
  text?: string;
}

const ROOT = "";
const collator = new Intl.Collator("en", { numeric: true, sensitivity: "base" });

export class MemSafe {
  readonly items = new Map<string, MemItem>();
  private readonly children = new Map<string, Set<string>>();
  private readonly sorted = new Map<string, string[]>();
  failures = 0;
  notBefore = 0;
  recoveryKeys = new Set<string>();
  lastOpenedMs: number | null = null;
  damagedDatabase = false;
  readOnlyReason: string | null = null;

  constructor(
    readonly id: string,
    public name: string,
    public path: string,
    public password: string,
  ) {}

  private key(parent: string | null): string {
    return parent ?? ROOT;
  }

  private childSet(parent: string | null): Set<string> {
    const key = this.key(parent);
    let set = this.children.get(key);
    if (!set) this.children.set(key, (set = new Set()));
    return set;
  }

  /** Forgets the sorted orders of a folder after its children changed. */
  touch(parent: string | null): void {
    const prefix = `${this.key(parent)}|`;
    for (const key of this.sorted.keys()) if (key.startsWith(prefix)) this.sorted.delete(key);
  }

  add(item: MemItem): MemItem {
    this.items.set(item.id, item);
    this.childSet(item.parent).add(item.id);
    this.touch(item.parent);
    return item;
  }

  remove(id: string): void {
    const item = this.items.get(id);
    if (!item) return;
    for (const child of [...this.childSet(id)]) this.remove(child);
    this.children.delete(id);
    this.childSet(item.parent).delete(id);
    this.items.delete(id);
    this.touch(item.parent);
  }

  move(item: MemItem, parent: string | null): void {
    this.childSet(item.parent).delete(item.id);
    this.touch(item.parent);
    item.parent = parent;
    this.childSet(parent).add(item.id);
    this.touch(parent);
  }

  /** Children that are not themselves at the top of the trash. */
  visibleChildren(parent: string | null): MemItem[] {
    const out: MemItem[] = [];
    for (const id of this.childSet(parent)) {
      const item = this.items.get(id)!;
      if (item.trashedMs === null) out.push(item);
    }
    return out;
  }

  childNamed(parent: string | null, name: string): MemItem | undefined {
    for (const id of this.childSet(parent)) {
      const item = this.items.get(id)!;
      if (item.trashedMs === null && item.name === name) return item;
    }
    return undefined;
  }

  sortedChildren(parent: string | null, sort: SortKey, descending: boolean): string[] {
    const key = `${this.key(parent)}|${sort}|${descending}`;
    let ids = this.sorted.get(key);
    if (!ids) {
      const rows = this.visibleChildren(parent);
      const by = (a: MemItem, b: MemItem): number => {
        switch (sort) {
          case "size": return a.size - b.size;
          case "modified": return (a.modifiedMs ?? 0) - (b.modifiedMs ?? 0);
          case "kind": return collator.compare(extension(a.name), extension(b.name));
          default: return 0;
        }
      };
      const sign = descending ? -1 : 1;
      rows.sort((a, b) => {
        if (a.kind !== b.kind) return a.kind === "folder" ? -1 : 1;
        return sign * (by(a, b) || collator.compare(a.name, b.name));
      });
      ids = rows.map((r) => r.id);
      this.sorted.set(key, ids);
    }
    return ids;
  }

  inTrash(item: MemItem): boolean {
    for (let at: MemItem | undefined = item; at; at = at.parent ? this.items.get(at.parent) : undefined) {
      if (at.trashedMs !== null) return true;
    }
    return false;
  }

  isFolder(id: string | null): boolean {
    if (id === null) return true;
    const item = this.items.get(id);
    return !!item && item.kind === "folder" && !this.inTrash(item);
  }

  /** `/Photos/2024/beach.jpg`; the root is `/`. */
  pathOf(id: string | null): string {
    const names: string[] = [];
    for (let at = id ? this.items.get(id) : undefined; at; at = at.parent ? this.items.get(at.parent) : undefined) {
      names.unshift(at.name);
    }
    return `/${names.join("/")}`;
  }

  ancestors(id: string | null): MemItem[] {
    const out: MemItem[] = [];
    for (let at = id ? this.items.get(id) : undefined; at; at = at.parent ? this.items.get(at.parent) : undefined) {
      out.unshift(at);
    }
    return out;
  }

  /** The folder at `/a/b` (null: the root), or undefined when it is not there. */
  folderAt(path: string): string | null | undefined {
    let at: string | null = null;
    for (const name of path.split("/").filter(Boolean)) {
      const child = this.childNamed(at, name);
      if (!child || child.kind !== "folder") return undefined;
      at = child.id;
    }
    return at;
  }

  /** Whether `id` is `folder` or inside it. */
  isWithin(id: string | null, folder: string): boolean {
    return this.ancestors(id).some((a) => a.id === folder);
  }

  descendants(id: string): MemItem[] {
    const out: MemItem[] = [];
    const walk = (parent: string) => {
      for (const child of this.childSet(parent)) {
        const item = this.items.get(child)!;
        if (item.trashedMs !== null) continue;
        out.push(item);
        if (item.kind === "folder") walk(child);
      }
    };
    walk(id);
    return out;
  }

  /** Live items (not in the trash). */
  *live(): Generator<MemItem> {
    for (const item of this.items.values()) if (!this.inTrash(item)) yield item;
  }

  /** A name not taken in `parent`: `name`, `name 2`, … (before the extension). */
  freeName(parent: string | null, name: string): string {
    if (!this.childNamed(parent, name)) return name;
    const dot = name.lastIndexOf(".");
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
    for (let n = 2; ; n++) {
      const candidate = `${stem} ${n}${ext}`;
      if (!this.childNamed(parent, candidate)) return candidate;
    }
  }
}

export function extension(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

export function toRow(item: MemItem): Row {
  return {
    id: item.id,
    parent: item.parent,
    name: item.name,
    kind: item.kind,
    size: item.size,
    modifiedMs: item.modifiedMs,
    addedMs: item.addedMs,
    trashedMs: item.trashedMs,
    favorite: item.favorite,
    tags: [...item.tags],
    content: item.content,
  };
}

let counter = 0;
/** UUID-shaped ids, in order of creation (deterministic for tests). */
export function newId(): string {
  counter += 1;
  return `00000000-0000-4000-8000-${counter.toString(16).padStart(12, "0")}`;
}

export function newItem(parent: string | null, name: string, kind: Kind, fields: Partial<MemItem> = {}): MemItem {
  const now = Date.now();
  return {
    id: newId(),
    parent,
    name,
    kind,
    size: 0,
    modifiedMs: kind === "file" ? now : null,
    addedMs: now,
    createdMs: now,
    trashedMs: null,
    favorite: false,
    tags: [],
    content: kind === "folder" ? "none" : "present",
    comment: "",
    ...fields,
  };
}
