// The only module that talks to the Rust side. Components import these typed
// functions, never `invoke` itself, so tests can fake the backend with
// `mockIPC` from `@tauri-apps/api/mocks`.
import { invoke } from "@tauri-apps/api/core";

/** Names of the Tauri commands in src-tauri/src/lib.rs. */
export const COMMANDS = {
  appInfo: "app_info",
} as const;

/** What the `app_info` command returns. */
export interface AppInfo {
  name: string;
  version: string;
}

/** A command failed, or answered with something other than what was expected. */
export class BackendError extends Error {
  readonly command: string;

  constructor(command: string, message: string, options?: { cause?: unknown }) {
    super(`${command}: ${message}`, options);
    this.name = "BackendError";
    this.command = command;
  }
}

async function call<T>(
  command: string,
  check: (value: unknown) => value is T,
  args?: Record<string, unknown>,
): Promise<T> {
  let value: unknown;
  try {
    value = await invoke<unknown>(command, args);
  } catch (cause) {
    throw new BackendError(command, describe(cause), { cause });
  }
  if (!check(value)) {
    throw new BackendError(command, "unexpected response from the app");
  }
  return value;
}

function describe(error: unknown): string {
  if (typeof error === "string") return error;
  if (error instanceof Error) return error.message;
  return "the command failed";
}

function isAppInfo(value: unknown): value is AppInfo {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.name === "string" && typeof record.version === "string";
}

/** The app's product name and version. */
export function appInfo(): Promise<AppInfo> {
  return call(COMMANDS.appInfo, isAppInfo);
}
