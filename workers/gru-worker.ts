/**
 * Pool worker: attaches once to the shared weights, state arena, CONTROL words and JOB buffers
 * (piscina workerData), then runs one long task, the resident loop (src/pool/resident-loop.ts),
 * which steps the shards the dispatcher posts through CONTROL until it is told to stop.
 */
import { workerData } from 'node:worker_threads';
import { type ResidentStart, residentLoop } from '../src/pool/resident-loop.js';
import { ShardStepper, type StepperInit } from '../src/pool/shard-stepper.js';

const init = workerData as StepperInit;
const stepper = new ShardStepper(init);

export default function resident(start: ResidentStart): void {
  residentLoop(stepper, init, start);
}
