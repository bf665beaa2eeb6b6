// The rows of a view, fetched in pages as the list scrolls to them. Only the pages near what is
// shown are asked for; a refresh re-fetches those in place so nothing flickers.
import type { ListRow, Slice } from "./view";

export const PAGE = 200;

export class Rows {
  total = $state(0);
  loaded = $state(false);
  /** Bumped when a page arrives; readers of `at()` depend on it. */
  version = $state(0);
  private pages = new Map<number, ListRow[]>();
  private pending = new Map<number, Promise<void>>();
  private generation = 0;

  constructor(private readonly fetch: (offset: number, limit: number) => Promise<Slice>, private readonly onError: (cause: unknown) => void) {}

  at(index: number): ListRow | undefined {
    void this.version;
    return this.pages.get(Math.floor(index / PAGE))?.[index % PAGE];
  }

  /** The fetched rows with these ids, in the order of `ids` (ids not fetched are left out). */
  find(ids: string[]): ListRow[] {
    const wanted = new Set(ids);
    const found = new Map<string, ListRow>();
    for (const page of this.pages.values()) {
      for (const row of page) if (wanted.has(row.id)) found.set(row.id, row);
      if (found.size === wanted.size) break;
    }
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  /** Makes sure rows first..last are (being) fetched. */
  ensure(first: number, last: number): void {
    const from = Math.max(0, Math.floor(first / PAGE));
    const to = Math.floor(Math.max(first, last) / PAGE);
    for (let p = from; p <= to; p++) void this.load(p);
  }

  load(page: number): Promise<void> {
    if (this.pages.has(page)) return Promise.resolve();
    const pending = this.pending.get(page);
    if (pending) return pending;
    if (this.loaded && page * PAGE >= this.total && page > 0) return Promise.resolve();
    const generation = this.generation;
    const promise = this.fetch(page * PAGE, PAGE)
      .then((slice) => {
        if (generation !== this.generation) return;
        this.pages.set(page, slice.rows);
        this.total = slice.total;
        this.loaded = true;
        this.version += 1;
      }, (cause) => {
        if (generation === this.generation) this.onError(cause);
      })
      .finally(() => this.pending.delete(page));
    this.pending.set(page, promise);
    return promise;
  }

  /** Every row (for Ctrl+A on a long list), fetched page by page. */
  async all(): Promise<ListRow[]> {
    // A refresh that starts meanwhile drops the pages fetched before it: read them again.
    let generation: number;
    do {
      generation = this.generation;
      await this.load(0);
      const pages = Math.ceil(this.total / PAGE);
      for (let p = 0; p < pages; p += 8) {
        await Promise.all(Array.from({ length: Math.min(8, pages - p) }, (_, i) => this.load(p + i)));
      }
    } while (generation !== this.generation);
    const pages = Math.ceil(this.total / PAGE);
    const out: ListRow[] = [];
    for (let p = 0; p < pages; p++) out.push(...(this.pages.get(p) ?? []));
    return out;
  }

  /** Fetches the pages around first..last again and forgets the others. */
  async refresh(first: number, last: number): Promise<void> {
    this.generation += 1;
    const generation = this.generation;
    this.pending.clear();
    const from = Math.max(0, Math.floor(first / PAGE));
    const to = Math.floor(Math.max(first, last) / PAGE);
    const fresh = new Map<number, ListRow[]>();
    let total = this.total;
    try {
      for (let p = from; p <= to; p++) {
        const slice = await this.fetch(p * PAGE, PAGE);
        fresh.set(p, slice.rows);
        total = slice.total;
        if (p * PAGE + PAGE >= total) break;
      }
    } catch (cause) {
      this.onError(cause);
      return;
    }
    if (generation !== this.generation) return;
    this.pages = fresh;
    this.total = total;
    this.loaded = true;
    this.version += 1;
  }
}
