import { describe, expect, it } from "vitest";
import { mockIPC } from "@tauri-apps/api/mocks";
import { appInfo, BackendError, COMMANDS } from "./backend";

describe("backend.appInfo", () => {
  it("invokes app_info without arguments and returns its answer", async () => {
    const calls: Array<{ cmd: string; args: unknown }> = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      return { name: "Arca", version: "1.2.3" };
    });

    await expect(appInfo()).resolves.toEqual({ name: "Arca", version: "1.2.3" });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.cmd).toBe(COMMANDS.appInfo);
    expect(COMMANDS.appInfo).toBe("app_info");
  });

  it("wraps a failing command in a BackendError naming the command", async () => {
    mockIPC(() => {
      throw new Error("no such command");
    });

    const error = await appInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendError);
    expect((error as BackendError).command).toBe("app_info");
  });

  it("rejects an answer of the wrong shape", async () => {
    mockIPC(() => ({ name: "Arca", version: 3 }));

    await expect(appInfo()).rejects.toThrow(/unexpected response/);
  });
});
