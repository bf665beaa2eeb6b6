// The window's language: i18next holds the texts; a rune makes every `t()` in a template
// re-run when the language changes. Numbers, sizes and dates use the same locale.
import i18next, { type TOptions } from "i18next";
import type { Language } from "../bindings";
import { en } from "./en";
import { de } from "./de";

export type Locale = "en" | "de";
export const LOCALES: Locale[] = ["en", "de"];

i18next.init({
  resources: { en: { translation: en }, de: { translation: de } },
  lng: "en",
  fallbackLng: "en",
  initAsync: false,
  interpolation: { escapeValue: false }, // Svelte escapes what it renders.
  returnNull: false,
  showSupportNotice: false,
});

const state = $state({ locale: "en" as Locale });

/** The system's language when Arca speaks it, else English. */
export function systemLocale(): Locale {
  const wanted = typeof navigator === "undefined" ? [] : [...(navigator.languages ?? []), navigator.language];
  for (const tag of wanted) {
    const base = tag?.slice(0, 2).toLowerCase();
    if (LOCALES.includes(base as Locale)) return base as Locale;
  }
  return "en";
}

export function setLanguage(language: Language): void {
  const locale = language === "system" ? systemLocale() : language;
  state.locale = locale;
  void i18next.changeLanguage(locale);
  if (typeof document !== "undefined") document.documentElement.lang = locale;
}

export function locale(): Locale {
  return state.locale;
}

/** A translated text; reactive in templates through the locale it reads. */
export function t(key: string, options?: TOptions): string {
  return (i18next.t as (key: string, options: object) => string)(key, { ...options, lng: state.locale });
}

export function hasKey(key: string): boolean {
  return i18next.exists(key, { lng: state.locale });
}

// Intl formatters are slow to make and a scrolling list asks for hundreds a second: one each.
const formatters = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();
function numberFormat(options: Intl.NumberFormatOptions = {}): Intl.NumberFormat {
  const key = `n|${state.locale}|${JSON.stringify(options)}`;
  let format = formatters.get(key) as Intl.NumberFormat | undefined;
  if (!format) formatters.set(key, (format = new Intl.NumberFormat(state.locale, options)));
  return format;
}
function dateFormat(options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${state.locale}|${JSON.stringify(options)}`;
  let format = formatters.get(key) as Intl.DateTimeFormat | undefined;
  if (!format) formatters.set(key, (format = new Intl.DateTimeFormat(state.locale, options)));
  return format;
}

export function formatNumber(value: number): string {
  return numberFormat().format(value);
}

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** Sizes in powers of 1000, as file managers show them. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${numberFormat({ maximumFractionDigits: digits }).format(value)} ${UNITS[unit]}`;
}

export function formatDate(ms: number | null): string {
  if (ms === null) return "—";
  const date = new Date(ms);
  const sameDay = date.toDateString() === new Date().toDateString();
  return dateFormat(sameDay ? { timeStyle: "short" } : { dateStyle: "medium" }).format(date);
}

export function formatDateTime(ms: number | null): string {
  if (ms === null) return "—";
  return dateFormat({ dateStyle: "long", timeStyle: "short" }).format(new Date(ms));
}

/** "3 min", "1 h 20 min": time left of a job, a countdown. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return t("time.seconds", { count: s });
  const minutes = Math.round(s / 60);
  if (minutes < 60) return t("time.minutes", { count: minutes });
  return t("time.hours", { count: Math.floor(minutes / 60), minutes: minutes % 60 });
}

/** zxcvbn's estimate of an offline attack, in words ("centuries", "3 days"). */
export function formatCrackTime(seconds: number): string {
  if (seconds < 1) return t("strength.crack.instant");
  const steps: Array<[number, string]> = [
    [60, "seconds"], [3600, "minutes"], [86400, "hours"], [2_592_000, "days"], [31_536_000, "months"], [3_153_600_000, "years"],
  ];
  let previous = 1;
  for (const [limit, unit] of steps) {
    if (seconds < limit) return t(`strength.crack.${unit}`, { count: Math.max(1, Math.round(seconds / previous)) });
    previous = limit;
  }
  return t("strength.crack.centuries");
}
