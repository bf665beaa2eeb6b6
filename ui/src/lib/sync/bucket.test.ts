// The bucket form's own checks (the app repeats them in Rust, and tries the bucket).
import { describe, expect, it } from "vitest";
import { bucketForm, bucketProblems, bucketTarget, describeBucket, describeTarget, keepsSecret, type BucketForm } from "./bucket";

const filled: BucketForm = {
  endpoint: " HTTPS://s3.eu-central-1.amazonaws.com/ ",
  region: "eu-central-1",
  bucket: "holiday-photos",
  prefix: "/arca/holiday/",
  accessKeyId: "AKIAEXAMPLE",
  secretAccessKey: " s3cr3t ",
};
const stored = { endpoint: "https://s3.eu-central-1.amazonaws.com", region: "eu-central-1", bucket: "holiday-photos", prefix: "arca/holiday", accessKeyId: "AKIAEXAMPLE" };

describe("the bucket form", () => {
  it("starts with a sensible region, and with the stored bucket but never a secret", () => {
    expect(bucketForm(null)).toEqual({ endpoint: "", region: "us-east-1", bucket: "", prefix: "", accessKeyId: "", secretAccessKey: "" });
    expect(bucketForm(stored)).toEqual({ ...stored, secretAccessKey: "" });
  });

  it("becomes the target the app takes, trimmed, the secret only when typed", () => {
    expect(bucketProblems(filled, null)).toEqual({});
    expect(bucketTarget(filled)).toEqual({ kind: "s3", ...stored, secretAccessKey: "s3cr3t" });
    expect(bucketTarget({ ...filled, secretAccessKey: "  " })).not.toHaveProperty("secretAccessKey");
  });

  it("names what is wrong with each field", () => {
    const empty = bucketProblems({ endpoint: "", region: "", bucket: "", prefix: "", accessKeyId: "", secretAccessKey: "" }, null);
    expect(empty).toEqual({
      endpoint: "endpointEmpty", region: "regionEmpty", bucket: "nameEmpty", accessKeyId: "keyIdEmpty", secretAccessKey: "secretEmpty",
    });
    const wrong = (change: Partial<BucketForm>) => bucketProblems({ ...filled, ...change }, null);
    expect(wrong({ endpoint: "s3.amazonaws.com" })).toEqual({ endpoint: "endpointScheme" });
    expect(wrong({ endpoint: "ftp://nas" })).toEqual({ endpoint: "endpointScheme" });
    expect(wrong({ endpoint: "https://" })).toEqual({ endpoint: "endpointHost" });
    expect(wrong({ endpoint: "https://me:pw@nas" })).toEqual({ endpoint: "endpointUser" });
    expect(wrong({ endpoint: "https://nas local" })).toEqual({ endpoint: "endpointSpace" });
    expect(wrong({ region: "eu central" })).toEqual({ region: "regionChars" });
    expect(wrong({ bucket: "Holiday" })).toEqual({ bucket: "nameRules" });
    expect(wrong({ bucket: "ab" })).toEqual({ bucket: "nameRules" });
    expect(wrong({ prefix: "a//b" })).toEqual({ prefix: "prefixParts" });
    expect(wrong({ prefix: "../b" })).toEqual({ prefix: "prefixParts" });
    expect(wrong({ accessKeyId: "AKIA EXAMPLE" })).toEqual({ accessKeyId: "keyIdChars" });
  });

  it("keeps the stored secret only for the same endpoint and access key", () => {
    const noSecret = { ...filled, secretAccessKey: "" };
    expect(keepsSecret(noSecret, stored)).toBe(true);
    expect(bucketProblems({ ...noSecret, bucket: "other-bucket", prefix: "" }, stored)).toEqual({});
    expect(bucketProblems({ ...noSecret, accessKeyId: "AKIAOTHER" }, stored)).toEqual({ secretAccessKey: "secretStoredOnly" });
    expect(bucketProblems({ ...noSecret, endpoint: "https://elsewhere.example" }, stored)).toEqual({ secretAccessKey: "secretStoredOnly" });
  });

  it("describes a bucket as the app and arca do", () => {
    expect(describeBucket(stored)).toBe("s3://holiday-photos/arca/holiday at https://s3.eu-central-1.amazonaws.com");
    expect(describeTarget({ kind: "s3", ...stored, prefix: "" })).toBe("s3://holiday-photos at https://s3.eu-central-1.amazonaws.com");
    expect(describeTarget({ kind: "folder", path: "/media/usb" })).toBe("/media/usb");
  });
});
