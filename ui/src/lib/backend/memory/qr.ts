// The demo's QR codes: they look like the app's (black modules on white, finder patterns in three
// corners, a quiet zone) but are drawn from a hash of the text, not encoded: no phone reads them.
// The app draws real ones in Rust (src-tauri/src/qr.rs).

/** The most characters of a configuration's text a QR code holds (version 40, medium error
 * correction, alphanumeric), as the app says. */
export const QR_MAX_CHARACTERS = 3391;

/** Modules a side of the demo's codes (version 34, as a real configuration of two devices). */
export const DEMO_QR_MODULES = 153;

/** A QR-code-like SVG of `text`: `modules` on a side (odd, ≥ 21), and a quiet zone of 4. */
export function demoQrSvg(text: string, modules = DEMO_QR_MODULES): string {
  let seed = 2166136261;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 16777619) >>> 0;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 16) & 1;
  };
  const finder = (x: number, y: number) => {
    for (const [fx, fy] of [[0, 0], [modules - 7, 0], [0, modules - 7]] as const) {
      const [dx, dy] = [x - fx, y - fy];
      if (dx >= -1 && dx <= 7 && dy >= -1 && dy <= 7) {
        const ring = Math.max(Math.abs(dx - 3), Math.abs(dy - 3));
        return ring === 4 ? 0 : ring === 2 ? 0 : 1;
      }
    }
    return null;
  };
  const quiet = 4;
  const side = modules + 2 * quiet;
  const rects: string[] = [];
  for (let y = 0; y < modules; y++) {
    for (let x = 0; x < modules; x++) {
      const fixed = finder(x, y);
      const timing = (x === 6 || y === 6) && fixed === null ? (x + y + 1) % 2 : null;
      if ((fixed ?? timing ?? random()) === 1) rects.push(`M${x + quiet} ${y + quiet}h1v1H${x + quiet}z`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${side * 6}" height="${side * 6}" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges"><rect x="0" y="0" width="${side}" height="${side}" fill="#ffffff"/><path fill="#000000" d="${rects.join("")}"/></svg>`;
}
