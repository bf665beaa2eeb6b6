// Light or dark: the setting, or the system's preference when the setting says "system".
import type { Theme } from "../bindings";

let current: Theme = "system";
let media: MediaQueryList | null = null;

function apply(): void {
  const dark = current === "dark" || (current === "system" && !!media?.matches);
  document.documentElement.dataset.theme = dark ? "dark" : "light";
}

export function setTheme(theme: Theme): void {
  current = theme;
  if (!media && typeof window !== "undefined" && window.matchMedia) {
    media = window.matchMedia("(prefers-color-scheme: dark)");
    media.addEventListener("change", apply);
  }
  apply();
}
