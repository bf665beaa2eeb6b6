// What the file list shows: a folder, one of the sidebar's lists, or search results.
import type { Row, SortKey } from "../bindings";
import type { Backend } from "../backend/Backend";

export type View =
  | { kind: "folder"; folder: string | null }
  | { kind: "favorites" }
  | { kind: "recent" }
  | { kind: "trash" }
  | { kind: "tag"; tag: string }
  | { kind: "search"; text: string; scope: string | null };

/** A row, and for search results the path of the folder it is in. */
export type ListRow = Row & { folderPath?: string };

export interface Sort {
  key: SortKey;
  descending: boolean;
}

export interface Slice {
  total: number;
  rows: ListRow[];
}

/** How to fetch `limit` rows from `offset` of a view. */
export function fetcher(backend: Backend, view: View, sort: Sort): (offset: number, limit: number) => Promise<Slice> {
  switch (view.kind) {
    case "folder":
      return (offset, limit) => backend.listFolder({ folder: view.folder, sort: sort.key, descending: sort.descending, offset, limit });
    case "favorites":
      return (offset, limit) => backend.favorites(offset, limit);
    case "recent":
      return (offset, limit) => backend.recentItems(offset, limit);
    case "trash":
      return (offset, limit) => backend.trashItems(offset, limit);
    case "tag":
      return (offset, limit) => backend.taggedItems(view.tag, offset, limit);
    case "search":
      return async (offset, limit) => {
        const page = await backend.search({ text: view.text, folder: view.scope, tag: null, favoritesOnly: false, offset, limit });
        return { total: page.total, rows: page.hits.map((h) => ({ ...h.row, folderPath: h.folderPath })) };
      };
  }
}

export function sameView(a: View, b: View): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
