// A small stand-in for zxcvbn, enough to drive the meter in the mock: it answers with the same
// advice keys the Rust side sends.
import type { Strength } from "../../bindings";

const COMMON = new Set([
  "password", "password1", "123456", "12345678", "qwerty", "letmein", "iloveyou", "admin",
  "welcome", "monkey", "dragon", "football", "passwort", "hallo123", "secret", "abc123",
]);
const ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "yxcvbnm", "1234567890"];

export function estimate(password: string, context: string[]): Strength {
  const lower = password.toLowerCase();
  const suggestions: string[] = [];
  let warning: string | null = null;
  let bits = 0;
  const classes =
    (/[a-z]/.test(password) ? 26 : 0) + (/[A-Z]/.test(password) ? 26 : 0) +
    (/[0-9]/.test(password) ? 10 : 0) + (/[^a-zA-Z0-9]/.test(password) ? 33 : 0);
  bits = password.length * Math.log2(Math.max(classes, 1));
  const words = password.split(/[\s\-_.,]+/).filter((w) => w.length >= 3);
  if (words.length >= 4) bits += 20;

  if (COMMON.has(lower)) {
    warning = "commonPassword";
    bits = Math.min(bits, 8);
  } else if (ROWS.some((row) => lower.length >= 4 && row.includes(lower))) {
    warning = "straightRow";
    bits = Math.min(bits, 12);
  } else if (/^(.)\1+$/.test(password)) {
    warning = "simpleRepeat";
    bits = Math.min(bits, 6);
  } else if (/^(19|20)\d\d$/.test(password)) {
    warning = "recentYears";
    bits = Math.min(bits, 8);
  } else if (context.some((c) => c.length >= 3 && lower.includes(c.toLowerCase()))) {
    warning = "userInputs";
    bits = Math.min(bits, 20);
  } else if (/^[a-zA-Z]+$/.test(password) && password.length < 10) {
    warning = "wordByItself";
  }

  const score = bits < 20 ? 0 : bits < 35 ? 1 : bits < 50 ? 2 : bits < 70 ? 3 : 4;
  if (score < 3) {
    suggestions.push(words.length < 2 ? "useAFewWords" : "addAnotherWord");
    if (/[A-Z]/.test(password) && /^[A-Z][a-z]+$/.test(password)) suggestions.push("capitalization");
    if (/[0-9!@#$%^&*]/.test(password)) suggestions.push("noNeedForMixedCase");
  }
  return {
    score,
    acceptable: score >= 3,
    warning,
    suggestions,
    crackSeconds: 2 ** bits / 2 / 1e10,
  };
}
