import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/svelte";
import { mockIPC } from "@tauri-apps/api/mocks";
import App from "./App.svelte";

describe("start screen", () => {
  it("shows the name, the tagline and the version from app_info", async () => {
    mockIPC((cmd) => {
      if (cmd === "app_info") return { name: "Arca", version: "9.8.7" };
      throw new Error(`unexpected command ${cmd}`);
    });

    render(App);

    expect(screen.getByRole("heading", { level: 1, name: "Arca" })).toBeInTheDocument();
    expect(screen.getByText("Encrypted file vault")).toBeInTheDocument();
    expect(screen.getByRole("img", { name: "Arca padlock" })).toBeInTheDocument();
    expect(await screen.findByText("Version 9.8.7")).toBeInTheDocument();
  });

  it("says that Safes are not there yet and offers no dead buttons", () => {
    mockIPC(() => ({ name: "Arca", version: "0.1.0" }));

    render(App);

    expect(screen.getByRole("note")).toHaveTextContent(
      "Safes open here in the next version; until then every Safe operation is in the arca command.",
    );
    expect(screen.queryAllByRole("button")).toHaveLength(0);
  });

  it("still renders when the backend fails", async () => {
    mockIPC(() => {
      throw new Error("backend down");
    });

    render(App);

    expect(await screen.findByText("Version unavailable")).toBeInTheDocument();
    expect(screen.getByRole("heading", { name: "Arca" })).toBeInTheDocument();
  });
});
