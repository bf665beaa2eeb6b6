// Recovery keys as the mock knows them: 30 symbols of Crockford base32 (no I, L, O, U), shown
// as 6 groups of 5; the last symbol is a checksum of the others, so a typo is caught before a
// key is tried.
import type { RecoveryKeyTypo } from "../../bindings";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const KEY_SYMBOLS = 30;

function checksum(symbols: string): string {
  let sum = 0;
  for (let i = 0; i < symbols.length; i++) sum = (sum * 7 + ALPHABET.indexOf(symbols[i]!) + i) % 32;
  return ALPHABET[sum]!;
}

function group(symbols: string): string {
  return symbols.match(/.{1,5}/g)!.join("-");
}

/** A well-formed key from 29 symbols of body (the checksum is appended). */
export function makeKey(body: string): string {
  return group(body + checksum(body));
}

export function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(KEY_SYMBOLS - 1));
  return makeKey(Array.from(bytes, (b) => ALPHABET[b % 32]).join(""));
}

/** The key every demo Safe accepts. */
export const DEMO_RECOVERY_KEY = makeKey("7K3QF9XW2MAB4CDE5FGH6JKM8NPQR");

/** The symbols of a typed key (spaces and dashes dropped, upper-cased). */
export function normalise(text: string): string {
  return text.replace(/[\s-]/g, "").toUpperCase();
}

export function keyTypo(text: string): RecoveryKeyTypo | null {
  const symbols = normalise(text);
  for (let i = 0; i < symbols.length; i++) {
    if (!ALPHABET.includes(symbols[i]!)) {
      return { kind: "character", position: i + 1, character: symbols[i]! };
    }
  }
  if (symbols.length !== KEY_SYMBOLS) {
    return { kind: "length", found: symbols.length, expected: KEY_SYMBOLS };
  }
  if (checksum(symbols.slice(0, -1)) !== symbols.at(-1)) return { kind: "checksum" };
  return null;
}
