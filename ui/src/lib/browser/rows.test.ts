import { describe, expect, it } from "vitest";
import { PAGE, Rows } from "./rows.svelte";
import type { ListRow } from "./view";

function source(total: number) {
  const asked: number[] = [];
  const fetch = async (offset: number, limit: number) => {
    asked.push(offset);
    const rows = Array.from({ length: Math.max(0, Math.min(limit, total - offset)) }, (_, i) => ({ id: String(offset + i), name: `n${offset + i}` }) as ListRow);
    return { total, rows };
  };
  return { fetch, asked };
}

describe("rows fetched in pages", () => {
  it("asks only for the pages around what is shown, once each", async () => {
    const { fetch, asked } = source(100_000);
    const rows = new Rows(fetch, () => {});
    rows.ensure(0, 40);
    rows.ensure(10, 50);
    await rows.load(0);
    expect(asked).toEqual([0]);
    rows.ensure(50_000, 50_040);
    await rows.load(Math.floor(50_000 / PAGE));
    expect(asked).toEqual([0, 50_000]);
    expect(rows.total).toBe(100_000);
    expect(rows.at(50_010)?.name).toBe("n50010");
    expect(rows.at(20_000)).toBeUndefined();
  });

  it("refreshes the shown pages in place and forgets the others", async () => {
    const { fetch, asked } = source(1000);
    const rows = new Rows(fetch, () => {});
    await rows.load(0);
    await rows.load(3);
    await rows.refresh(600, 650);
    expect(asked).toEqual([0, 600, 600]);
    expect(rows.at(0)).toBeUndefined();
    expect(rows.at(620)?.name).toBe("n620");
  });

  it("gives every row even when a refresh starts while they are fetched", async () => {
    const { fetch } = source(450);
    // The refresh's answer comes after the first page it makes stale.
    let calls = 0;
    const slow = async (offset: number, limit: number) => {
      const wait = calls++ === 1 ? 30 : 1;
      await new Promise((resolve) => setTimeout(resolve, wait));
      return fetch(offset, limit);
    };
    const rows = new Rows(slow, () => {});
    const all = rows.all();
    void rows.refresh(0, 40);
    const got = await all;
    expect(got).toHaveLength(450);
    expect(got[449]?.name).toBe("n449");
  });
});
