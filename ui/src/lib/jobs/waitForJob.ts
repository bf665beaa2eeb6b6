import type { Job } from "../bindings";
import type { Backend } from "../backend/Backend";

/** Follows a job until it ends; `onMove` sees each update. */
export async function waitForJob(backend: Backend, started: Job, onMove: (job: Job) => void): Promise<Job> {
  onMove(started);
  if (started.state === "finished" || started.state === "failed" || started.state === "cancelled") return started;
  let stop: () => void = () => {};
  const ended = new Promise<Job>((resolve) => {
    void backend.onJob((job) => {
      if (job.id !== started.id) return;
      onMove(job);
      if (job.state === "finished" || job.state === "failed" || job.state === "cancelled") resolve(job);
    }).then((unlisten) => (stop = unlisten));
  });
  const job = await ended;
  stop();
  return job;
}
