import type { AppError, ErrorKind } from "../bindings";

/** A failed backend call: `error` is the Rust side's AppError (or one made up for a broken call). */
export class BackendError extends Error {
  readonly error: AppError;

  constructor(error: AppError, options?: { cause?: unknown }) {
    super(`${error.kind}: ${error.message}`, options);
    this.name = "BackendError";
    this.error = error;
  }
}

// A record over ErrorKind, so a kind added on the Rust side fails the type check until it is here.
const KIND_RECORD: Record<ErrorKind, true> = {
  wrongPassword: true, wrongRecoveryKey: true, recoveryKeyTypo: true, tryLater: true,
  noRecoveryKey: true, notASafe: true, alreadyExists: true, newerFormat: true, damaged: true,
  damagedDatabase: true, notFound: true, nameClash: true, invalidName: true, moveIntoItself: true,
  trashState: true, notStoredYet: true, alreadyRunning: true, lockedByOther: true, readOnly: true,
  diskFull: true, io: true, safeLocked: true, weakPassword: true, invalidInput: true,
  notABackup: true, foreignBackup: true, noSecureArea: true, waitingForSync: true, syncTarget: true,
  noSyncTarget: true, badSyncConfig: true, foreignTarget: true, syncDiverged: true, syncDevice: true,
  bucketUnreachable: true, bucketAccessDenied: true, bucketNotFound: true, noQrCode: true,
  qrNotSyncConfig: true, internal: true,
};
const KINDS = new Set<string>(Object.keys(KIND_RECORD));

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
