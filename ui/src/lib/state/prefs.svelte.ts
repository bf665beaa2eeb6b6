// The app's settings as last loaded or saved; theme and language follow them at once.
import type { Backend } from "../backend/Backend";
import type { Language, Settings, Theme } from "../bindings";
import { setLanguage } from "../i18n/i18n.svelte";
import { notifyError } from "./notices.svelte";
import { setTheme } from "./theme";

export const prefs = $state<{ settings: Settings }>({
  settings: { autoLockMinutes: 15, lockOnSleep: true, theme: "system", language: "system" },
});

export function applySettings(settings: Settings): void {
  prefs.settings = settings;
  setTheme(settings.theme);
  setLanguage(settings.language);
}

/** Shows a new theme or language at once and saves it; puts the old one back if saving fails. */
export async function changeAppearance(
  backend: Backend,
  change: { theme?: Theme; language?: Language },
): Promise<void> {
  const before = prefs.settings;
  const next = { ...before, ...change };
  applySettings(next);
  try {
    await backend.saveSettings(next, null);
  } catch (cause) {
    applySettings(before);
    notifyError(cause);
  }
}
