import { describe, expect, it } from "vitest";
import { pastedPaths } from "./paste";

function clipboard(types: Record<string, string>): DataTransfer {
  return { getData: (type: string) => types[type] ?? "" } as DataTransfer;
}

describe("pasted files", () => {
  it("come as a uri-list of file URLs, decoded to paths", () => {
    const data = clipboard({ "text/uri-list": "file:///home/me/My%20Photos\r\nfile:///home/me/a%C3%A4.txt\r\n" });
    expect(pastedPaths(data)).toEqual(["/home/me/My Photos", "/home/me/aä.txt"]);
  });

  it("or as file:// lines in plain text; other text is no import", () => {
    expect(pastedPaths(clipboard({ "text/plain": "copy\nfile:///tmp/x.pdf" }))).toEqual(["/tmp/x.pdf"]);
    expect(pastedPaths(clipboard({ "text/plain": "just words" }))).toEqual([]);
  });
});
