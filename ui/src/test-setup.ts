import "@testing-library/jest-dom/vitest";
import { afterEach } from "vitest";
import { clearMocks } from "@tauri-apps/api/mocks";

// Every test sets up its own fake backend with mockIPC; none leaks into the next.
afterEach(() => {
  clearMocks();
});

// jsdom lays nothing out: bind:clientHeight needs a ResizeObserver to exist, not to fire.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};
