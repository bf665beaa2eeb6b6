// Sample content for the mock's files, made on demand from the name: what a preview or a
// thumbnail of the demo Safe shows. Everything is a data: URL (jsdom has no blob: URLs).
import type { PreviewKind } from "../../bindings";

const KINDS: Record<string, PreviewKind> = {
  jpg: "image", jpeg: "image", png: "image", gif: "image", webp: "image", svg: "image",
  txt: "text", md: "text", csv: "text", json: "text", log: "text",
  pdf: "pdf",
  mp3: "audio", wav: "audio", ogg: "audio", flac: "audio", m4a: "audio",
  mp4: "video", webm: "video", mov: "video", mkv: "video",
};

export function previewKindOf(name: string): PreviewKind {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? (KINDS[name.slice(dot + 1).toLowerCase()] ?? "none") : "none";
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A landscape in the colours of its seed: sky, sun, two ridges. */
export function imageDataUrl(seed: string, width: number, height: number): string {
  const h = hash(seed);
  const hue = h % 360;
  const sunX = 20 + (h >> 9) % 60;
  const ridge = (h >> 3) % 30;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 100 75" preserveAspectRatio="xMidYMid slice">` +
    `<defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="hsl(${hue},70%,72%)"/>` +
    `<stop offset="1" stop-color="hsl(${(hue + 40) % 360},80%,88%)"/></linearGradient></defs>` +
    `<rect width="100" height="75" fill="url(#s)"/>` +
    `<circle cx="${sunX}" cy="24" r="9" fill="hsl(${(hue + 60) % 360},95%,92%)"/>` +
    `<path d="M0 52 L${22 + ridge} ${30 + ridge / 3} L${55 + ridge / 2} 50 L78 36 L100 48 V75 H0Z" fill="hsl(${(hue + 200) % 360},30%,45%)"/>` +
    `<path d="M0 62 L30 50 L60 60 L85 52 L100 58 V75 H0Z" fill="hsl(${(hue + 180) % 360},35%,28%)"/>` +
    `</svg>`;
  return `data:image/svg+xml;base64,${btoa(svg)}`;
}

export function textContent(name: string): string {
  const lines = [
    `# ${name}`,
    "",
    "Notes kept in an Arca Safe. Everything here is encrypted on disk and only",
    "decrypted in memory while the Safe is unlocked.",
    "",
  ];
  for (let i = 1; i <= 40; i++) lines.push(`${i}. Item ${i}: checked, filed and backed up.`);
  return lines.join("\n");
}

function utf8Base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** The sample text of a file by its name, or `text` (what another app saved into it). */
export function textDataUrl(name: string, text?: string): string {
  return `data:text/plain;charset=utf-8;base64,${utf8Base64(text ?? textContent(name))}`;
}

/** What the desktop would list for a file's type (the default app is not among them). */
export function appsFor(name: string): Array<{ id: string; name: string }> {
  switch (previewKindOf(name)) {
    case "text": return [{ id: "org.gnome.TextEditor.desktop", name: "Text Editor" }, { id: "org.demo.Notes.desktop", name: "Notes" }];
    case "image": return [{ id: "org.gnome.Loupe.desktop", name: "Image Viewer" }, { id: "org.gimp.GIMP.desktop", name: "GIMP" }];
    case "pdf": return [{ id: "org.gnome.Papers.desktop", name: "Document Viewer" }];
    case "audio":
    case "video": return [{ id: "org.videolan.VLC.desktop", name: "VLC media player" }];
    default: return [];
  }
}

/** A two-page PDF with a heading and a few lines of text (a valid file: pdf.js renders it). */
export function pdfDataUrl(title: string): string {
  const safe = title.replace(/[()\\]/g, "").replace(/[^\x20-\x7e]/g, "?");
  const page = (n: number) =>
    `BT /F1 24 Tf 72 720 Td (${safe}) Tj ET BT /F1 12 Tf 72 690 Td (Page ${n} of 2 - a sample document in the demo Safe.) Tj ET` +
    Array.from({ length: 20 }, (_, i) => ` BT /F1 11 Tf 72 ${650 - i * 22} Td (Line ${i + 1}: Lorem ipsum dolor sit amet, consectetur adipiscing elit.) Tj ET`).join("");
  const contents = [page(1), page(2)];
  const objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 6 0 R >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 7 0 R >>",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ...contents.map((c) => `<< /Length ${c.length} >>\nstream\n${c}\nendstream`),
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, "0")} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return `data:application/pdf;base64,${btoa(out)}`;
}

/** A few seconds of a soft three-note chime as 8 kHz mono WAV. */
export function wavDataUrl(seconds = 4): string {
  const rate = 8000;
  const n = rate * seconds;
  const bytes = new Uint8Array(44 + n);
  const view = new DataView(bytes.buffer);
  const text = (at: number, s: string) => [...s].forEach((c, i) => view.setUint8(at + i, c.charCodeAt(0)));
  text(0, "RIFF"); view.setUint32(4, 36 + n, true); text(8, "WAVE"); text(12, "fmt ");
  view.setUint32(16, 16, true); view.setUint16(20, 1, true); view.setUint16(22, 1, true);
  view.setUint32(24, rate, true); view.setUint32(28, rate, true); view.setUint16(32, 1, true);
  view.setUint16(34, 8, true); text(36, "data"); view.setUint32(40, n, true);
  const notes = [523.25, 659.25, 783.99];
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const note = notes[Math.floor(t * 1.5) % notes.length]!;
    const envelope = Math.exp(-((t * 1.5) % 1) * 3);
    bytes[44 + i] = 128 + Math.round(60 * envelope * Math.sin(2 * Math.PI * note * t));
  }
  let binary = "";
  for (let i = 0; i < bytes.length; i += 8192) binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return `data:audio/wav;base64,${btoa(binary)}`;
}

/**
 * A short animated clip recorded from a canvas (WebM, where the browser can record), else the
 * chime: the `<video>` element still gets something it can play and seek.
 */
export async function videoUrl(seed: string): Promise<string> {
  if (typeof MediaRecorder === "undefined" || typeof document === "undefined") return wavDataUrl(3);
  const canvas = document.createElement("canvas");
  canvas.width = 320;
  canvas.height = 180;
  const context = canvas.getContext("2d");
  if (!context || !("captureStream" in canvas)) return wavDataUrl(3);
  const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm" });
  const chunks: Blob[] = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  const hue = hash(seed) % 360;
  const start = performance.now();
  recorder.start();
  await new Promise<void>((resolve) => {
    const frame = () => {
      const t = (performance.now() - start) / 1000;
      context.fillStyle = `hsl(${(hue + t * 40) % 360},60%,40%)`;
      context.fillRect(0, 0, 320, 180);
      context.fillStyle = "white";
      context.beginPath();
      context.arc(40 + ((t * 80) % 240), 90 + Math.sin(t * 3) * 40, 18, 0, Math.PI * 2);
      context.fill();
      context.font = "16px sans-serif";
      context.fillText(`${t.toFixed(1)} s`, 12, 24);
      if (t < 2) requestAnimationFrame(frame);
      else resolve();
    };
    frame();
  });
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.stop();
  await stopped;
  return URL.createObjectURL(new Blob(chunks, { type: "video/webm" }));
}
