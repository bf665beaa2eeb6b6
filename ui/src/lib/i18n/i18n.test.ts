import { afterEach, describe, expect, it } from "vitest";
import type { ErrorKind } from "../bindings";
import { en } from "./en";
import { de } from "./de";
import { ERROR_KEYS, errorExplained, errorText, typoText } from "./errors";
import { suggestionText, warningText } from "./advice";
import { formatBytes, formatDuration, hasKey, setLanguage, t } from "./i18n.svelte";

function keys(tree: object, prefix = ""): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === "object" ? keys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

// Every ErrorKind, spelled out; the `satisfies` and the check below make the compiler refuse
// this list when a kind is added to the bindings and not here.
const ALL_KINDS = [
  "wrongPassword", "wrongRecoveryKey", "recoveryKeyTypo", "tryLater", "noRecoveryKey", "notASafe",
  "alreadyExists", "newerFormat", "damaged", "damagedDatabase", "notFound", "nameClash",
  "invalidName", "moveIntoItself", "trashState", "notStoredYet", "alreadyRunning", "lockedByOther", "readOnly", "diskFull", "io",
  "safeLocked", "weakPassword", "invalidInput", "notABackup", "foreignBackup", "noSecureArea",
  "waitingForSync", "syncTarget", "noSyncTarget", "badSyncConfig", "foreignTarget", "syncDiverged", "syncDevice",
  "bucketUnreachable", "bucketAccessDenied", "bucketNotFound", "noQrCode", "qrNotSyncConfig", "internal",
] as const satisfies readonly ErrorKind[];
type Missing = Exclude<ErrorKind, (typeof ALL_KINDS)[number]>;
const noneMissing: Missing extends never ? true : false = true;

describe("translations", () => {
  afterEach(() => setLanguage("en"));

  it("have the same keys in English and German", () => {
    expect(keys(de).sort()).toEqual(keys(en).sort());
  });

  it("leave no text empty", () => {
    for (const [name, tree] of Object.entries({ en, de })) {
      for (const key of keys(tree)) {
        const value = key.split(".").reduce<unknown>((at, k) => (at as Record<string, unknown>)[k], tree);
        if (key !== "start.statusLong.ready") expect(value, `${name}: ${key}`).not.toBe("");
      }
    }
  });

  it("have a message for every error kind, in both languages", () => {
    expect(noneMissing).toBe(true);
    expect(Object.keys(ERROR_KEYS).sort()).toEqual([...ALL_KINDS].sort());
    for (const language of ["en", "de"] as const) {
      setLanguage(language);
      for (const kind of ALL_KINDS) {
        expect(hasKey(ERROR_KEYS[kind]), `${language}: ${kind}`).toBe(true);
        expect(errorText({ kind, message: "the library's English" })).not.toContain("the library's English");
      }
    }
  });

  it("add the library's reason where one kind has several (a device removed, or not approved yet)", () => {
    const message = "this device was removed from the Safe's sync by desk: it keeps its copy of the Safe, but no longer syncs";
    expect(errorExplained({ kind: "syncDevice", message })).toBe(
      "This device cannot do that among the devices of this Safe. This device was removed from the Safe's sync by desk: it keeps its copy of the Safe, but no longer syncs.",
    );
    expect(errorExplained({ kind: "syncTarget", message: "the sync target /media/usb: gone" })).toBe(errorText({ kind: "syncTarget", message: "" }));
    setLanguage("de");
    expect(errorExplained({ kind: "syncDevice", message: "not approved yet." })).toBe("Das kann dieses Gerät unter den Geräten dieses Safes nicht. Not approved yet.");
  });

  it("say how long to wait, from retryAfterSeconds", () => {
    expect(errorText({ kind: "tryLater", message: "", retryAfterSeconds: 8 })).toBe("Too many wrong attempts. Try again in 8 seconds.");
    setLanguage("de");
    expect(errorText({ kind: "tryLater", message: "", retryAfterSeconds: 120 })).toBe("Zu viele falsche Versuche. Versuchen Sie es in 2 Minuten wieder.");
  });

  it("describe recovery-key typos", () => {
    expect(typoText({ kind: "length", found: 28, expected: 30 })).toBe("The key has 28 characters; it should have 30.");
    expect(typoText({ kind: "character", position: 7, character: "U" })).toContain("Character 7 (“U”)");
    expect(typoText({ kind: "checksum" })).toContain("mistyped");
  });

  it("translate zxcvbn's advice keys, the crate's variant names, and fall back for unknown ones", () => {
    expect(warningText("commonPassword")).toBe("This is a very common password.");
    expect(warningText("topRow")).toBe("Straight rows of keys are easy to guess.");
    expect(warningText("ThisIsATop10Password")).toBe("This is one of the ten most common passwords.");
    expect(suggestionText("useAFewWords")).toBe("Use a few words; avoid common phrases.");
    expect(suggestionText("noNeedForMixedCase")).toBe("No need for symbols, digits or uppercase letters.");
    expect(suggestionText("addAnotherWord")).toBe("Add another word or two. Uncommon words are better.");
    expect(suggestionText("somethingNew")).toBe(en.strength.suggestion.unknown);
    setLanguage("de");
    expect(warningText("somethingNew")).toBe(de.strength.warning.unknown);
    expect(suggestionText("UseAFewWordsAvoidCommonPhrases")).toBe(de.strength.suggestion.useAFewWords);
  });

  it("follow the system language unless the setting says otherwise", () => {
    const languages = Object.getOwnPropertyDescriptor(Navigator.prototype, "languages");
    Object.defineProperty(navigator, "languages", { value: ["de-AT", "en"], configurable: true });
    setLanguage("system");
    expect(t("lock.lock")).toBe("Sperren");
    setLanguage("en");
    expect(t("lock.lock")).toBe("Lock");
    if (languages) Object.defineProperty(navigator, "languages", languages);
    else delete (navigator as unknown as Record<string, unknown>).languages;
  });

  it("format sizes and durations in the language's way", () => {
    expect(formatBytes(3_412_554)).toBe("3.4 MB");
    expect(formatDuration(3900)).toBe("1 h 5 min");
    setLanguage("de");
    expect(formatBytes(3_412_554)).toBe("3,4 MB");
  });

  it("know every key the components ask for", () => {
    const sources = import.meta.glob(["../../**/*.svelte", "../../**/*.ts", "!../../**/*.test.ts"], {
      query: "?raw",
      import: "default",
      eager: true,
    }) as Record<string, string>;
    const known = new Set(keys(en).map((k) => k.replace(/_(one|other)$/, "")));
    const asked = new Set<string>();
    for (const text of Object.values(sources)) {
      for (const match of text.matchAll(/\bt\(\s*"([a-zA-Z0-9_.]+)"/g)) asked.add(match[1]!);
    }
    expect(asked.size).toBeGreaterThan(150);
    expect([...asked].filter((key) => !known.has(key))).toEqual([]);
  });
});
