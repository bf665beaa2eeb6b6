// Jobs of the mock: a list of steps worked through on a timer at a simulated rate, with
// pause, resume and cancel, problems reported as they happen, and a snapshot sent on each move.
import type { Job, JobKind, JobPhase, Problem } from "../../bindings";

export interface Step {
  /** The item being worked on (shown as `current`). */
  path: string;
  bytes: number;
  /** Applies the step; a Problem when the item could not be done. */
  run?: () => Problem | null;
}

export interface JobOptions {
  kind: JobKind;
  title: string;
  phase: JobPhase;
  steps: Step[];
  /** Simulated speed. */
  bytesPerSecond: number;
  emit: (job: Job) => void;
  /** Called once when it ends (finished, failed or cancelled). */
  onEnd?: (job: Job) => void;
  summary?: (job: Job) => string;
  /** Runs when every step is done; an error it returns fails the job instead of finishing it. */
  finish?: () => Job["error"];
  id?: string;
  /** At most this many files a tick (default 40: an import of small files still shows moving). */
  filesPerTick?: number;
  /** Files and bytes done before (a resumed import). */
  alreadyDone?: { files: number; bytes: number };
}

const TICK_MS = 100;
let jobCounter = 0;

export class MemJob {
  readonly job: Job;
  private index = 0;
  private intoStep = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly options: JobOptions) {
    jobCounter += 1;
    const done = options.alreadyDone ?? { files: 0, bytes: 0 };
    this.job = {
      id: options.id ?? `job-${jobCounter}`,
      kind: options.kind,
      title: options.title,
      state: "running",
      phase: "planning",
      current: null,
      filesDone: done.files,
      filesTotal: done.files + options.steps.length,
      bytesDone: done.bytes,
      bytesTotal: done.bytes + options.steps.reduce((sum, s) => sum + s.bytes, 0),
      bytesPerSecond: 0,
      secondsLeft: null,
      problems: [],
      error: null,
      summary: null,
    };
  }

  /** Steps not done yet (what an interrupted import has left). */
  remaining(): Step[] {
    return this.options.steps.slice(this.index);
  }

  start(): Job {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    return this.snapshot();
  }

  snapshot(): Job {
    return structuredClone(this.job);
  }

  get ended(): boolean {
    return this.job.state === "finished" || this.job.state === "failed" || this.job.state === "cancelled";
  }

  pause(): void {
    if (this.job.state !== "running") return;
    this.job.state = "paused";
    this.job.bytesPerSecond = 0;
    this.job.secondsLeft = null;
    this.emit();
  }

  resume(): void {
    if (this.job.state !== "paused") return;
    this.job.state = "running";
    this.emit();
  }

  cancel(): void {
    if (this.ended) return;
    this.stop("cancelled");
  }

  fail(error: Job["error"]): void {
    this.job.error = error;
    this.stop("failed");
  }

  private stop(state: Job["state"]): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.job.state = state;
    this.job.current = null;
    this.job.bytesPerSecond = 0;
    this.job.secondsLeft = null;
    if (state === "finished") {
      this.job.phase = "finished";
      this.job.summary = this.options.summary?.(this.job) ?? `${this.job.filesDone} files`;
    }
    this.emit();
    this.options.onEnd?.(this.snapshot());
  }

  private emit(): void {
    this.options.emit(this.snapshot());
  }

  private tick(): void {
    if (this.job.state !== "running") return;
    if (this.job.phase === "planning") {
      this.job.phase = this.options.phase;
      this.emit();
      return;
    }
    let budget = (this.options.bytesPerSecond * TICK_MS) / 1000;
    // Small files cost time too, so an import of many tiny files still takes a moment.
    let files = 0;
    const most = this.options.filesPerTick ?? 40;
    while (budget > 0 && this.index < this.options.steps.length && files < most) {
      const step = this.options.steps[this.index]!;
      const take = Math.min(budget, step.bytes - this.intoStep);
      this.intoStep += take;
      this.job.bytesDone += take;
      budget -= take + 65_536;
      this.job.current = step.path;
      if (this.intoStep >= step.bytes) {
        const problem = step.run?.() ?? null;
        if (problem) this.job.problems.push(problem);
        this.job.filesDone += 1;
        this.index += 1;
        this.intoStep = 0;
        files += 1;
      }
    }
    this.job.bytesDone = Math.round(this.job.bytesDone);
    this.job.bytesPerSecond = this.options.bytesPerSecond;
    this.job.secondsLeft = (this.job.bytesTotal - this.job.bytesDone) / this.options.bytesPerSecond;
    if (this.index >= this.options.steps.length) {
      const error = this.options.finish?.() ?? null;
      if (error) this.fail(error);
      else this.stop("finished");
    } else this.emit();
  }
}
