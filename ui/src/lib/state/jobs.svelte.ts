// The jobs the panel shows, kept current from the `job` event.
import type { Job } from "../bindings";

export const jobs = $state<{ list: Job[] }>({ list: [] });

export function upsertJob(job: Job): void {
  const at = jobs.list.findIndex((j) => j.id === job.id);
  if (at >= 0) jobs.list[at] = job;
  else jobs.list.push(job);
}

export function removeJob(id: string): void {
  jobs.list = jobs.list.filter((j) => j.id !== id);
}

export function clearJobs(): void {
  jobs.list = [];
}

export function isActive(job: Job): boolean {
  return job.state === "running" || job.state === "paused";
}
