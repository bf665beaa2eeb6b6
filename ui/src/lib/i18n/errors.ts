// The one table from an error's kind to what the window says. The library's English message
// is only ever shown as "details".
import type { AppError, ErrorKind, RecoveryKeyTypo } from "../bindings";
import { appErrorOf } from "../backend/BackendError";
import { formatDuration, t } from "./i18n.svelte";

export const ERROR_KEYS: Record<ErrorKind, string> = {
  wrongPassword: "errors.wrongPassword",
  wrongRecoveryKey: "errors.wrongRecoveryKey",
  recoveryKeyTypo: "errors.recoveryKeyTypo",
  tryLater: "errors.tryLater",
  noRecoveryKey: "errors.noRecoveryKey",
  notASafe: "errors.notASafe",
  alreadyExists: "errors.alreadyExists",
  newerFormat: "errors.newerFormat",
  damaged: "errors.damaged",
  damagedDatabase: "errors.damagedDatabase",
  notFound: "errors.notFound",
  nameClash: "errors.nameClash",
  invalidName: "errors.invalidName",
  moveIntoItself: "errors.moveIntoItself",
  trashState: "errors.trashState",
  notStoredYet: "errors.notStoredYet",
  alreadyRunning: "errors.alreadyRunning",
  lockedByOther: "errors.lockedByOther",
  readOnly: "errors.readOnly",
  diskFull: "errors.diskFull",
  io: "errors.io",
  safeLocked: "errors.safeLocked",
  weakPassword: "errors.weakPassword",
  invalidInput: "errors.invalidInput",
  notABackup: "errors.notABackup",
  foreignBackup: "errors.foreignBackup",
  noSecureArea: "errors.noSecureArea",
  waitingForSync: "errors.waitingForSync",
  syncTarget: "errors.syncTarget",
  noSyncTarget: "errors.noSyncTarget",
  badSyncConfig: "errors.badSyncConfig",
  foreignTarget: "errors.foreignTarget",
  syncDiverged: "errors.syncDiverged",
  syncDevice: "errors.syncDevice",
  bucketUnreachable: "errors.bucketUnreachable",
  bucketAccessDenied: "errors.bucketAccessDenied",
  bucketNotFound: "errors.bucketNotFound",
  noQrCode: "errors.noQrCode",
  qrNotSyncConfig: "errors.qrNotSyncConfig",
  internal: "errors.internal",
};

/** What the window says about a failure (translated, from the kind). */
export function errorText(error: AppError): string {
  if (error.kind === "tryLater") {
    return t(ERROR_KEYS.tryLater, { time: formatDuration(error.retryAfterSeconds ?? 0) });
  }
  if (error.kind === "recoveryKeyTypo" && error.typo) return typoText(error.typo);
  return t(ERROR_KEYS[error.kind] ?? ERROR_KEYS.internal);
}

/** Kinds one text cannot tell apart: the library's message says which case it is (a device was
 * removed, is not approved yet, or is not known), so it is shown beside the text. */
const SAID_BY_MESSAGE: ReadonlySet<ErrorKind> = new Set<ErrorKind>(["syncDevice"]);

/** What the window says about a failure, with the library's explanation where the kind alone
 * does not say enough. */
export function errorExplained(error: AppError): string {
  const text = errorText(error);
  if (!SAID_BY_MESSAGE.has(error.kind) || !error.message.trim()) return text;
  const message = error.message.trim();
  const sentence = message.charAt(0).toUpperCase() + message.slice(1);
  return `${text} ${sentence}${/[.!?]$/.test(sentence) ? "" : "."}`;
}

/** `errorExplained` for anything a call rejected with. */
export function explainError(cause: unknown): string {
  return errorExplained(appErrorOf(cause));
}

/** The same for anything a call rejected with. */
export function describeError(cause: unknown): { text: string; details: string } {
  const error = appErrorOf(cause);
  return { text: errorText(error), details: error.message };
}

export function typoText(typo: RecoveryKeyTypo): string {
  switch (typo.kind) {
    case "length":
      return t("recovery.typo.length", { found: typo.found, expected: typo.expected });
    case "character":
      return t("recovery.typo.character", { position: typo.position, character: typo.character });
    case "checksum":
      return t("recovery.typo.checksum");
  }
}
