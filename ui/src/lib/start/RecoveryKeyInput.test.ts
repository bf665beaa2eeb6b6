import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { MemoryBackend } from "../backend/memory/MemoryBackend";
import { DEMO_RECOVERY_KEY } from "../backend/memory/recoveryKey";
import Harness from "./RecoveryKeyInput.harness.svelte";

describe("typing a recovery key", () => {
  it("shows typos as typos while typing, and says when the key is well-formed", async () => {
    render(Harness, { backend: new MemoryBackend({ bigFolderSize: 1 }) });
    const input = screen.getByLabelText("Recovery key");
    await fireEvent.input(input, { target: { value: "7K3QF-9XW2U" } });
    expect(await screen.findByText(/Character 10 \(“U”\) never appears/)).toBeInTheDocument();
    await fireEvent.input(input, { target: { value: DEMO_RECOVERY_KEY.replace(/^(.)(.)/, "$2$1") } });
    expect(await screen.findByText(/One character is mistyped/)).toBeInTheDocument();
    await fireEvent.input(input, { target: { value: DEMO_RECOVERY_KEY.toLowerCase() } });
    expect(await screen.findByText("The key is well-formed.")).toBeInTheDocument();
  });
});
