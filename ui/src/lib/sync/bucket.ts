// A bucket as sync target in the window: the form's fields checked the way the app checks them
// (src-tauri/src/bucket.rs says the last word, in English, and tries the bucket), and a target
// described as the person reads it.
import type { BucketTarget, SyncTarget } from "../bindings";

/** The bucket form's fields, the secret as typed ("" for none). */
export interface BucketForm {
  endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export type BucketField = keyof BucketForm;

/** The region most buckets of Amazon S3 are in, and that most other stores accept. */
export const DEFAULT_REGION = "us-east-1";

/** The form for a new bucket, or for the one set up (its secret is never sent to the window). */
export function bucketForm(stored: BucketTarget | null): BucketForm {
  return {
    endpoint: stored?.endpoint ?? "",
    region: stored?.region ?? DEFAULT_REGION,
    bucket: stored?.bucket ?? "",
    prefix: stored?.prefix ?? "",
    accessKeyId: stored?.accessKeyId ?? "",
    secretAccessKey: "",
  };
}

/** The endpoint as the app keeps it: trimmed, its scheme in lower case, no trailing slash. */
export function normalEndpoint(text: string): string {
  const trimmed = text.trim();
  const at = trimmed.indexOf("://");
  if (at < 0) return trimmed;
  return `${trimmed.slice(0, at).toLowerCase()}://${trimmed.slice(at + 3).replace(/\/+$/, "")}`;
}

export const normalPrefix = (text: string): string => text.trim().replace(/^\/+|\/+$/g, "");

/** Whether the stored secret goes on with this form: the same endpoint and access key ID. */
export function keepsSecret(form: BucketForm, stored: BucketTarget | null): boolean {
  return stored !== null && normalEndpoint(form.endpoint) === stored.endpoint && form.accessKeyId.trim() === stored.accessKeyId;
}

/** What is wrong with each field (keys of `sync.bucket.problem`); empty when nothing is. */
export function bucketProblems(form: BucketForm, stored: BucketTarget | null): Partial<Record<BucketField, string>> {
  const problems: Partial<Record<BucketField, string>> = {};
  const endpoint = form.endpoint.trim();
  const scheme = endpoint.slice(0, Math.max(0, endpoint.indexOf("://"))).toLowerCase();
  const rest = endpoint.slice(endpoint.indexOf("://") + 3).replace(/\/+$/, "");
  const host = rest.split(/[/?#]/)[0] ?? "";
  if (!endpoint) problems.endpoint = "endpointEmpty";
  else if (scheme !== "http" && scheme !== "https") problems.endpoint = "endpointScheme";
  else if (host.includes("@")) problems.endpoint = "endpointUser";
  else if (!host || host.startsWith(":")) problems.endpoint = "endpointHost";
  else if (/\s/.test(rest)) problems.endpoint = "endpointSpace";

  const region = form.region.trim();
  if (!region) problems.region = "regionEmpty";
  else if (region.length > 64 || !/^[A-Za-z0-9._-]+$/.test(region)) problems.region = "regionChars";

  const bucket = form.bucket.trim();
  if (!bucket) problems.bucket = "nameEmpty";
  else if (!/^[a-z0-9.-]{3,63}$/.test(bucket)) problems.bucket = "nameRules";

  const prefix = normalPrefix(form.prefix);
  if (prefix && prefix.split("/").some((part) => part === "" || part === "." || part === "..")) problems.prefix = "prefixParts";

  const keyId = form.accessKeyId.trim();
  if (!keyId) problems.accessKeyId = "keyIdEmpty";
  else if (/\s/.test(keyId) || keyId.length > 128) problems.accessKeyId = "keyIdChars";

  if (!form.secretAccessKey.trim() && !keepsSecret(form, stored)) {
    problems.secretAccessKey = stored ? "secretStoredOnly" : "secretEmpty";
  }
  return problems;
}

/** The target the form stands for, as the app takes it (no secret: the stored one is kept). */
export function bucketTarget(form: BucketForm): SyncTarget {
  const secret = form.secretAccessKey.trim();
  return {
    kind: "s3",
    endpoint: normalEndpoint(form.endpoint),
    region: form.region.trim(),
    bucket: form.bucket.trim(),
    prefix: normalPrefix(form.prefix),
    accessKeyId: form.accessKeyId.trim(),
    ...(secret ? { secretAccessKey: secret } : {}),
  };
}

/** A bucket as people read it (as the app and `arca` show it): `s3://bucket/prefix at endpoint`. */
export function describeBucket(target: Pick<BucketTarget, "bucket" | "prefix" | "endpoint">): string {
  const prefix = normalPrefix(target.prefix);
  return `s3://${target.bucket}${prefix ? `/${prefix}` : ""} at ${target.endpoint}`;
}

/** Any target as people read it: a folder's path, a bucket's address. */
export function describeTarget(target: SyncTarget): string {
  switch (target.kind) {
    case "folder":
      return target.path;
    case "s3":
      return describeBucket(target);
    case "other":
      return target.description;
  }
}
