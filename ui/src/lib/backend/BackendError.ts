import type { AppError } from "../bindings";

/** A failed backend call: `error` is the Rust side's AppError (or one made up for a broken call). */
export class BackendError extends Error {
  readonly error: AppError;

  constructor(error: AppError, options?: { cause?: unknown }) {
    super(`${error.kind}: ${error.message}`, options);
    this.name = "BackendError";
    this.error = error;
  }
}

const KINDS = new Set([
  "wrongPassword", "wrongRecoveryKey", "recoveryKeyTypo", "tryLater", "noRecoveryKey", "notASafe",
  "alreadyExists", "newerFormat", "damaged", "damagedDatabase", "notFound", "nameClash",
  "invalidName", "moveIntoItself", "trashState", "lockedByOther", "readOnly", "diskFull", "io",
  "safeLocked", "weakPassword", "invalidInput", "notABackup", "foreignBackup", "internal",
]);

function isAppError(value: unknown): value is AppError {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.kind === "string" && KINDS.has(record.kind) && typeof record.message === "string";
}

/**
 * Whatever a call rejected with, as a BackendError. Tauri rejects with the serialised AppError;
 * anything else (a missing command, a panic turned into a string) becomes `internal`.
 */
export function toBackendError(cause: unknown): BackendError {
  if (cause instanceof BackendError) return cause;
  if (isAppError(cause)) return new BackendError(cause, { cause });
  const message =
    typeof cause === "string" ? cause : cause instanceof Error ? cause.message : "the call failed";
  return new BackendError({ kind: "internal", message }, { cause });
}

/** The AppError of anything a call rejected with. */
export function appErrorOf(cause: unknown): AppError {
  return toBackendError(cause).error;
}
