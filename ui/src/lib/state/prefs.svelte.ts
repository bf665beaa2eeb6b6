// The app's settings as last loaded or saved; theme and language follow them at once.
import type { Settings } from "../bindings";
import { setLanguage } from "../i18n/i18n.svelte";
import { setTheme } from "./theme";

export const prefs = $state<{ settings: Settings }>({
  settings: { autoLockMinutes: 15, lockOnSleep: true, theme: "system", language: "system" },
});

export function applySettings(settings: Settings): void {
  prefs.settings = settings;
  setTheme(settings.theme);
  setLanguage(settings.language);
}
