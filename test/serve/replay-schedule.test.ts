// The replay's schedule, checked exactly on a virtual clock: row k is written at t0 + k / rate, never
// earlier and never later; a stall moves the schedule on instead of being made up with a burst.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WriteGate } from '../../src/serve/backpressure.js';
import { type ReplayClock, startReplay } from '../../src/serve/replay.js';

const ROWS = 30;
const RATE = 50; // rows per second: one every 20 ms
const PERIOD = 1000 / RATE;

function csvFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gru-schedule-')), 'sched.csv');
  writeFileSync(path, `t,value\n${Array.from({ length: ROWS }, (_, i) => `${i},${i}`).join('\n')}\n`);
  return path;
}

/** Virtual time: sleeping advances it at once, so the test waits on nothing real. */
function virtualClock(): ReplayClock & { time: number } {
  const clock = {
    time: 1_000,
    now: () => clock.time,
    sleep: async (ms: number) => {
      clock.time += ms;
    },
  };
  return clock;
}

/** A gate that records when each row was written, and pushes back once at row `stallAt` for `stallMs`. */
function recordingGate(clock: { time: number }, stallAt: number, stallMs: number): { gate: WriteGate; written: number[] } {
  const written: number[] = [];
  const gate = {
    isClosed: false,
    write: () => written.push(clock.time) !== stallAt + 1,
    drained: async () => {
      clock.time += stallMs;
    },
  };
  return { gate: gate as unknown as WriteGate, written };
}

function replay(clock: ReplayClock, gate: WriteGate): Promise<void> {
  return startReplay({
    path: csvFile(), rate: RATE, loop: false, columns: ['value'], series: 'sched', gate, clock,
    resetSeries: async () => {}, onSample: () => {}, onInvalid: (err) => { throw err; },
  }).done;
}

describe('replay schedule', () => {
  it('writes row k at exactly t0 + k / rate: never early, never late', async () => {
    const clock = virtualClock();
    const { gate, written } = recordingGate(clock, -1, 0);
    await replay(clock, gate);
    expect(written).toHaveLength(ROWS);
    written.forEach((at, k) => expect(at - written[0]).toBeCloseTo(k * PERIOD, 9));
  });

  it('after a stall the schedule moves on by the time lost: no burst to catch up', async () => {
    const clock = virtualClock();
    const stallAt = 10;
    const stallMs = 500;
    const { gate, written } = recordingGate(clock, stallAt, stallMs);
    await replay(clock, gate);
    expect(written).toHaveLength(ROWS);
    const gaps = written.slice(1).map((at, k) => at - written[k]);
    gaps.forEach((gap, k) => expect(gap, `gap after row ${k}`).toBeCloseTo(k === stallAt ? stallMs : PERIOD, 9));
  });
});
