import { Control, STOP_SEQ, controlIndex } from '../kernel/layout.js';
import { type PollChange, pollChange } from './poll-change.js';
import type { ShardStepper, StepperInit } from './shard-stepper.js';

/** The piscina task that starts a resident loop on compute thread `thread`. */
export interface ResidentStart {
  thread: number;
  /** jobSeq already handled (or abandoned): the loop waits for a different one. */
  seen: number;
}

/**
 * How long an idle loop polls (yielding the CPU between looks, poll-change.ts) before it parks. A
 * back-to-back batch (a bench's ticks, predict's NDJSON rounds) arrives within it and costs the
 * dispatcher no notify; after it the loop parks, and the next batch pays for one wake-up (the
 * notifier's 30-60 µs on this KVM guest). Measured: 0.25 ms beat 0 and 1 ms end to end; timed
 * polls between this and parking (50 µs sleeps for up to 20 ms) made nothing faster, and a service
 * fed 100 samples a second then used 30 % of a core instead of 6 %.
 */
const POLL_MS = 0.25;

/** Wait until jobSeq differs from `seen`; returns the new value. */
function nextJob(control: Int32Array, at: number, parkedAt: number, seen: number, poll: PollChange): number {
  if (Atomics.load(control, at) !== seen || poll(control, at, seen, POLL_MS)) return Atomics.load(control, at);
  // Parked: see `parked` in layout.ts for why the store, then the second look, then the wait.
  Atomics.store(control, parkedAt, 1);
  let seq: number;
  for (;;) {
    seq = Atomics.load(control, at);
    if (seq !== seen) break;
    Atomics.wait(control, at, seen);
  }
  Atomics.store(control, parkedAt, 0);
  return seq;
}

/**
 * A pool worker's resident loop: wait on this thread's jobSeq (CONTROL, layout.ts), step rows
 * [jobStart, jobStart + jobCount) of the JOB buffers transactionally, publish doneSeq, repeat, until
 * jobSeq is STOP_SEQ. Runs inside one piscina task, so piscina still owns the thread: it replaces it
 * if it dies and terminates it on destroy. Nothing crosses a MessagePort per batch.
 */
export function residentLoop(stepper: ShardStepper, init: StepperInit, start: ResidentStart): void {
  const { control, jobs, horizon } = init;
  const { thread } = start;
  const I = init.weights.layout.shape.inputSize;
  const rowOut = horizon * init.weights.layout.shape.outputSize;
  const jobAt = controlIndex(thread, Control.jobSeq);
  const doneAt = controlIndex(thread, Control.doneSeq);
  const parkedAt = controlIndex(thread, Control.parked);
  const poll = pollChange();
  Atomics.store(control, controlIndex(thread, Control.ready), 1);
  Atomics.notify(control, controlIndex(thread, Control.ready));
  let seen = start.seen;
  for (;;) {
    const seq = nextJob(control, jobAt, parkedAt, seen, poll);
    if (seq === STOP_SEQ) return;
    seen = seq;
    const first = control[controlIndex(thread, Control.jobStart)];
    const count = control[controlIndex(thread, Control.jobCount)];
    const slots = jobs.slots.subarray(first, first + count);
    const inputs = jobs.inputs.subarray(first * I, (first + count) * I);
    const out = jobs.out.subarray(first * rowOut, (first + count) * rowOut);
    if (control[controlIndex(thread, Control.jobFault)] === 1) {
      // Test-only fault injection: back the shard up as usual, advance half its rows, then die,
      // leaving a half-written shard behind so the dispatcher's rollback is exercised for real.
      stepper.backup(thread, count, slots, seq);
      stepper.run(thread, Math.max(1, count >> 1), slots, inputs, out);
      process.exit(70);
    }
    stepper.run(thread, count, slots, inputs, out, seq);
    jobs.doneAt[thread] = performance.timeOrigin + performance.now();
    // After every result is written: whoever loads this seq sees them (see CONTROL in layout.ts).
    Atomics.store(control, doneAt, seq);
    Atomics.notify(control, doneAt);
  }
}
