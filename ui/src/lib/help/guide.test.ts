import { describe, expect, it } from "vitest";
import { sections } from "./guide";

describe("the user guide", () => {
  it("has the sections a person needs, each rendered", () => {
    const titles = sections().map((s) => s.title);
    for (const needed of ["Your first Safe", "The recovery key", "Backups", "Restoring", "Moving to a new computer", "When the password is lost"]) {
      expect(titles).toContain(needed);
    }
    for (const section of sections()) expect(section.html.trim()).not.toBe("");
  });

  it("renders lists, emphasis and code, and gives each section its own id", () => {
    const [first, second] = sections("# Title\n\n## One\n\n- **a** `b`\n\n## Two\n\ntext\n");
    expect(first).toMatchObject({ id: "guide-0", title: "One" });
    expect(first!.html).toContain("<li><strong>a</strong> <code>b</code></li>");
    expect(second).toMatchObject({ id: "guide-1", title: "Two", html: "<p>text</p>\n" });
  });
});
