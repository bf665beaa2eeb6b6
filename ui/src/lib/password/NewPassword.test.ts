import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { MemoryBackend } from "../backend/memory/MemoryBackend";
import Harness from "./NewPassword.harness.svelte";

describe("a new password", () => {
  it("shows the meter with zxcvbn's advice and asks to confirm a weak one", async () => {
    render(Harness, { backend: new MemoryBackend({ bigFolderSize: 1 }) });
    await fireEvent.input(screen.getByLabelText("New password"), { target: { value: "password" } });
    expect(await screen.findByText("This is a very common password.")).toBeInTheDocument();
    expect(screen.getByText("Very weak")).toBeInTheDocument();
    await fireEvent.input(screen.getByLabelText("Repeat the password"), { target: { value: "password" } });
    expect(screen.getByTestId("valid")).toHaveTextContent("false");
    await fireEvent.click(await screen.findByLabelText(/I understand this password is weak/));
    expect(screen.getByTestId("valid")).toHaveTextContent("true");
  });

  it("says when the two do not match", async () => {
    render(Harness, { backend: new MemoryBackend({ bigFolderSize: 1 }) });
    await fireEvent.input(screen.getByLabelText("New password"), { target: { value: "violet granite orbit ketch" } });
    await fireEvent.input(screen.getByLabelText("Repeat the password"), { target: { value: "violet granite" } });
    expect(screen.getByText("The two passwords are not the same.")).toBeInTheDocument();
    expect(screen.getByTestId("valid")).toHaveTextContent("false");
  });
});
