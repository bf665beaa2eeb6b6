// Thumbnails asked for once per item while the Safe is open (the cache goes on lock).
import type { Backend } from "../backend/Backend";

const cache = new Map<string, Promise<string | null>>();

export function thumbnail(backend: Backend, id: string): Promise<string | null> {
  let url = cache.get(id);
  if (!url) {
    url = backend.thumbnailUrl(id).catch(() => null);
    cache.set(id, url);
    // Keep memory bounded in a folder of 100,000 images: forget the oldest.
    if (cache.size > 2000) cache.delete(cache.keys().next().value!);
  }
  return url;
}

export function forgetThumbnails(): void {
  cache.clear();
}
