// The wait after wrong passwords, counted down to the second.
export class Countdown {
  remaining = $state(0);
  private deadline = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  start(seconds: number): void {
    this.stop();
    if (seconds <= 0) return;
    this.deadline = Date.now() + seconds * 1000;
    this.remaining = seconds;
    this.timer = setInterval(() => {
      this.remaining = Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000));
      if (this.remaining === 0) this.stop();
    }, 250);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.remaining = 0;
  }
}

/** 8 → "0:08", 125 → "2:05". */
export function clock(seconds: number): string {
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
