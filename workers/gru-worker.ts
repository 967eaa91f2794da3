/**
 * Pool worker: attaches once to the shared weights and state arena (piscina workerData),
 * then steps the shards it is handed. A task carries only slot indices and normalised inputs;
 * states are read and written in place in the SharedArrayBuffer.
 */
import { workerData } from 'node:worker_threads';
import { move } from 'piscina';
import { ShardStepper, type StepperInit } from '../src/pool/shard-stepper.js';
import type { ShardTask } from '../src/pool/shard-task.js';

const stepper = new ShardStepper(workerData as StepperInit);
const horizon = (workerData as StepperInit).horizon;
const outputSize = (workerData as StepperInit).weights.layout.shape.outputSize;

export default function stepShard(task: ShardTask): Float32Array {
  const out = new Float32Array(Math.max(1, task.count * horizon * outputSize));
  if (task.fault === 'exit-mid-batch') {
    // Test-only fault injection: back the shard up as usual, advance half its rows, then die,
    // leaving a half-written shard behind so the pool's rollback is exercised for real.
    stepper.backup(task.thread, task.count, task.slots, task.seq);
    stepper.run(task.thread, Math.max(1, task.count >> 1), task.slots, task.inputs, out);
    process.exit(70);
  }
  stepper.run(task.thread, task.count, task.slots, task.inputs, out, task.seq);
  return move(out) as unknown as Float32Array;
}
