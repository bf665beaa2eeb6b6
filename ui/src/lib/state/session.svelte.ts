// The unlocked Safe, if any. Everything the browser shows hangs off it; locking sets it to
// null and the browser (with every view, preview and cache) is unmounted.
import type { OpenedSafe } from "../bindings";

export const session = $state<{ safe: OpenedSafe | null; epoch: number }>({ safe: null, epoch: 0 });

export function opened(safe: OpenedSafe): void {
  session.safe = safe;
  session.epoch += 1;
}

export function closed(): void {
  session.safe = null;
  session.epoch += 1;
}
