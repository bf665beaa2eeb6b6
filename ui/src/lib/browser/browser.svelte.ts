// The state of the open Safe's window: which view, its rows, the selection and focus, what is
// being renamed or previewed. Made by Browser.svelte and handed to its parts through context;
// dropped whole on lock.
import { getContext, setContext } from "svelte";
import type { Crumb, TagCount } from "../bindings";
import type { Backend } from "../backend/Backend";
import { notifyError } from "../state/notices.svelte";
import { Rows } from "./rows.svelte";
import { fetcher, type ListRow, type Sort, type View } from "./view";

const KEY = Symbol("arca-browser");

export class BrowserState {
  view = $state<View>({ kind: "folder", folder: null });
  sort = $state<Sort>({ key: "name", descending: false });
  rows = $state.raw<Rows>(null as unknown as Rows);
  selected = $state.raw<Set<string>>(new Set());
  focus = $state(0);
  anchor = 0;
  crumbs = $state<Crumb[]>([]);
  tags = $state<TagCount[]>([]);
  /** Open at the start unless the window is narrow (there it floats over the list). */
  infoOpen = $state(!(typeof window !== "undefined" && window.matchMedia?.("(max-width: 1100px)").matches));
  renaming = $state<string | null>(null);
  previewing = $state<number | null>(null);
  /** Bumped when folders change, so expanded tree nodes fetch their children again. */
  treeVersion = $state(0);
  trashed = $state(0);
  /** First and last row index on screen (kept by the list, used by refresh). */
  visible = { first: 0, last: 50 };
  private history: View[] = [];

  constructor(readonly backend: Backend, readonly readOnly: boolean) {
    this.rows = this.makeRows();
    void this.loadView();
    void this.loadTags();
  }

  private makeRows(): Rows {
    return new Rows(fetcher(this.backend, this.view, this.sort), notifyError);
  }

  /** The folder new things go into: the one shown, or the root. */
  get folder(): string | null {
    if (this.view.kind === "folder") return this.view.folder;
    if (this.view.kind === "search") return this.view.scope;
    return null;
  }

  private async loadView(): Promise<void> {
    this.rows.ensure(0, 60);
    if (this.view.kind === "folder") {
      try {
        this.crumbs = await this.backend.breadcrumb(this.view.folder);
      } catch (cause) {
        notifyError(cause);
      }
    }
  }

  async loadTags(): Promise<void> {
    try {
      this.tags = await this.backend.tags();
      this.trashed = (await this.backend.safeInfo()).trashed;
    } catch (cause) {
      notifyError(cause);
    }
  }

  navigate(view: View, remember = true): void {
    if (remember) this.history.push(this.view);
    this.view = view;
    this.selected = new Set();
    this.focus = 0;
    this.anchor = 0;
    this.renaming = null;
    this.previewing = null;
    this.rows = this.makeRows();
    void this.loadView();
  }

  setSort(key: Sort["key"]): void {
    this.sort = { key, descending: this.sort.key === key ? !this.sort.descending : false };
    this.rows = this.makeRows();
    this.rows.ensure(0, 60);
  }

  /** Up one folder (Backspace, Alt+Up); from a list that is no folder, back where it came from. */
  up(): void {
    if (this.view.kind === "folder") {
      if (this.view.folder === null) return;
      const parent = this.crumbs.length >= 2 ? this.crumbs[this.crumbs.length - 2]!.id : null;
      this.navigate({ kind: "folder", folder: parent });
    } else {
      const back = this.history.pop();
      this.navigate(back ?? { kind: "folder", folder: null }, false);
    }
  }

  /** Re-reads what is shown (after a change here or an event). */
  async refresh(): Promise<void> {
    await this.rows.refresh(this.visible.first, this.visible.last);
    if (this.view.kind === "folder") {
      this.crumbs = await this.backend.breadcrumb(this.view.folder).catch(() => this.crumbs);
    }
    const total = this.rows.total;
    if (this.focus >= total) this.focus = Math.max(0, total - 1);
    this.treeVersion += 1;
    void this.loadTags();
  }

  row(index: number): ListRow | undefined {
    return this.rows.at(index);
  }

  focused(): ListRow | undefined {
    return this.rows.at(this.focus);
  }

  /** The selected ids, or the focused row when nothing is selected. */
  targets(): string[] {
    if (this.selected.size) return [...this.selected];
    const row = this.focused();
    return row ? [row.id] : [];
  }

  select(index: number, mode: "only" | "toggle" | "range"): void {
    const row = this.rows.at(index);
    this.focus = index;
    if (!row) return;
    if (mode === "only") {
      this.selected = new Set([row.id]);
      this.anchor = index;
    } else if (mode === "toggle") {
      const next = new Set(this.selected);
      if (next.has(row.id)) next.delete(row.id);
      else next.add(row.id);
      this.selected = next;
      this.anchor = index;
    } else {
      const [from, to] = this.anchor <= index ? [this.anchor, index] : [index, this.anchor];
      const next = new Set<string>();
      for (let i = from; i <= to; i++) {
        const r = this.rows.at(i);
        if (r) next.add(r.id);
      }
      this.selected = next;
    }
  }

  /** Shows the item `id` where it is (its folder, or the trash for an item in it), chosen, with
   * its details. */
  async reveal(id: string, parent: string | null, inTrash: boolean): Promise<void> {
    this.navigate(inTrash ? { kind: "trash" } : { kind: "folder", folder: parent });
    const all = await this.rows.all();
    const index = all.findIndex((r) => r.id === id);
    if (index >= 0) this.select(index, "only");
    this.infoOpen = true;
  }

  async selectAll(): Promise<void> {
    const all = await this.rows.all();
    this.selected = new Set(all.map((r) => r.id));
  }

  clear(): void {
    this.selected = new Set();
  }
}

export function provideBrowser(state: BrowserState): void {
  setContext(KEY, state);
}

export function useBrowser(): BrowserState {
  return getContext<BrowserState>(KEY);
}
