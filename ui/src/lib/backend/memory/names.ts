// The Safe's name rule, as the mock enforces it (the library is the rule's home; this copy
// only lets the mock refuse what the library refuses).

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const encoder = new TextEncoder();

/** Why `name` is no valid item name, or `null` when it is one. */
export function nameProblem(name: string): string | null {
  const bytes = encoder.encode(name).length;
  if (bytes === 0) return "a name cannot be empty";
  if (bytes > 255) return `a name is at most 255 bytes of UTF-8 (this one has ${bytes})`;
  if (name.includes("/")) return "a name cannot contain '/'";
  if (CONTROL.test(name)) return "a name cannot contain NUL or control characters";
  if (name === "." || name === "..") return `'${name}' is not a name`;
  return null;
}
