// train() with its automatic choices on a short synthetic series (trend + season + noise): the model it
// ships must beat persistence on rows it never saw, streamed through the real predictor.
import { describe, expect, it } from 'vitest';
import { train } from '../../src/train/engine.js';
import type { TrainProgress } from '../../src/train/progress.js';
import { normalFrom, seededRandom } from '../../src/util/seeded-random.js';
import { runPredictor } from '../helpers/run-predictor.js';

describe('train()', () => {
  it('automatic transform, size and epochs beat persistence on held-out rows; progress is reported', async () => {
    const rnd = seededRandom(3);
    const n = 150;
    const held = 30;
    const values = Array.from({ length: n }, (_, t) => 50 + 0.3 * t + 8 * Math.sin((2 * Math.PI * t) / 12) + normalFrom(rnd));
    const events: TrainProgress[] = [];
    // Only the budget is set (the defaults' 60 s is for real data): every choice is the trainer's.
    const { model, report } = await train(values.slice(0, n - held).map((value) => ({ series: 's', value })), { seed: 1, threads: 2, timeBudget: 8, onProgress: (e) => events.push(e) });
    expect(report.trials.map((t) => t.transform)).toEqual(expect.arrayContaining(['zscore', 'diff+zscore', 'log_return+zscore']));
    expect(report.baselines.period).toBe(12);

    const { outputs } = await runPredictor(model, values.map((value) => ({ series: 's', value })));
    let mae = 0;
    let persistence = 0;
    for (let t = n - held; t < n; t++) {
      mae += Math.abs(values[t] - (outputs[t - 1].forecast as number[])[0]);
      persistence += Math.abs(values[t] - values[t - 1]);
    }
    expect(mae / held).toBeLessThan(0.8 * (persistence / held));

    expect(events[0].type).toBe('start');
    expect(events.at(-1)!.type).toBe('done');
    const runs = events.filter((e) => e.type === 'run');
    expect(runs).toHaveLength(report.runs.length);
    const epochs = events.filter((e) => e.type === 'epoch');
    expect(epochs.length).toBe(report.runs.reduce((a, r) => a + r.history.length, 0));
  });
});
