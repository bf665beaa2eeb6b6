// Which icon a row gets, and whether it may have a thumbnail (only asked for images).
import type { Row } from "../bindings";
import type { IconName } from "../ui/icons";

const BY_EXTENSION: Record<string, IconName> = {
  jpg: "image", jpeg: "image", png: "image", gif: "image", webp: "image", heic: "image", bmp: "image", tif: "image", tiff: "image", svg: "image",
  txt: "text", md: "text", csv: "text", json: "text", log: "text", doc: "text", docx: "text", odt: "text", rtf: "text",
  pdf: "pdf",
  mp3: "audio", wav: "audio", ogg: "audio", flac: "audio", m4a: "audio",
  mp4: "video", webm: "video", mov: "video", mkv: "video", avi: "video",
  zip: "archive", gz: "archive", tar: "archive", "7z": "archive", rar: "archive",
};

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

export function iconFor(row: Row): IconName {
  if (row.kind === "folder") return "folder";
  return BY_EXTENSION[extensionOf(row.name)] ?? "file";
}

export function mayHaveThumbnail(row: Row): boolean {
  return row.kind === "file" && row.content === "present" && iconFor(row) === "image";
}
