/**
 * Pool worker for `train()` with threads > 1: trains one run per task (src/train/run-task.ts) and
 * posts every epoch's record to the task's port, so the main thread can draw progress.
 */
import type { MessagePort } from 'node:worker_threads';
import type { CandidateResult } from '../src/train/candidate.js';
import { type RunTask, runTask } from '../src/train/run-task.js';

export default function trainRun(task: RunTask & { port: MessagePort }): CandidateResult {
  try {
    return runTask(task, (record) => task.port.postMessage(record));
  } finally {
    task.port.close();
  }
}
