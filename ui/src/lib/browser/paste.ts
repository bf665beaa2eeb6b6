// Files pasted from the file manager arrive as text/uri-list (or file:// lines in plain text):
// turned into local paths for importPaths.
export function pastedPaths(data: DataTransfer | null): string[] {
  if (!data) return [];
  const text = data.getData("text/uri-list") || data.getData("text/plain");
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.startsWith("file://"))
    .map((line) => {
      try {
        return decodeURIComponent(new URL(line).pathname);
      } catch {
        return "";
      }
    })
    .filter(Boolean);
}
