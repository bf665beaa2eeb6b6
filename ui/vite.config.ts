/// <reference types="node" />
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";
import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";

// The user guide lives in docs/guide.md, outside this folder; it is built into the window as the
// module "virtual:user-guide" (its text), so the app's help always matches its version.
function userGuide(): Plugin {
  const file = fileURLToPath(new URL("../docs/guide.md", import.meta.url));
  const id = "\0virtual:user-guide";
  return {
    name: "arca-user-guide",
    resolveId: (source) => (source === "virtual:user-guide" ? id : null),
    load(loading) {
      if (loading !== id) return null;
      this.addWatchFile(file);
      return `export default ${JSON.stringify(readFileSync(file, "utf8"))};`;
    },
  };
}

// The Tauri window loads this dev server (src-tauri/tauri.conf.json `devUrl`)
// or, in builds, the files in dist/ (`frontendDist`).
export default defineConfig({
  plugins: [svelte(), svelteTesting(), userGuide()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    host: "localhost",
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK (Linux), WKWebView (macOS) and WebView2 (Windows) all handle ES2021.
    target: ["es2021", "safari15", "chrome105"],
    sourcemap: false,
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test-setup.ts"],
    include: ["src/**/*.test.ts"],
    restoreMocks: true,
  },
});
