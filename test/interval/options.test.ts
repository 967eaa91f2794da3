import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, ModelError, OptionError } from '../../src/errors.js';
import { loadModel, modelFromBytes } from '../../src/model/load-model.js';
import { parseSafetensors, writeSafetensors } from '../../src/model/safetensors.js';
import { createPredictor } from '../../src/stream/predictor.js';
import { runCli } from '../helpers/cli.js';
import { codeOf } from '../helpers/error-code.js';
import { trainedModels } from '../helpers/fixtures.js';

const [first] = trainedModels();

describe('interval options', () => {
  it.each([
    [0, 'interval'], [1, 'interval'], [-0.5, 'interval'], [1.5, 'interval'], [Number.NaN, 'interval'], ['0.9', 'interval'],
    [[], 'interval'], [[0.9, 0.9], 'interval'], [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9], 'interval'], [[0.9, 2], 'interval'],
  ])('interval %j is refused with ERR_OPTION naming %s', async (value, option) => {
    const model = await loadModel(first.modelPath);
    const make = (): unknown => createPredictor(model, { interval: value as number });
    expect(codeOf(OptionError, make)).toBe(ErrorCodes.ERR_OPTION);
    try {
      make();
    } catch (err) {
      expect((err as OptionError).details.option).toBe(option);
    }
  });

  it('intervals with a horizon past 128 are refused with ERR_OPTION; at 128 they are accepted', async () => {
    const model = await loadModel(first.modelPath);
    expect(codeOf(OptionError, () => createPredictor(model, { interval: 0.9, horizon: 129 }))).toBe(ErrorCodes.ERR_OPTION);
    createPredictor(model, { interval: 0.9, horizon: 128 }).destroy();
    createPredictor(model, { horizon: 129 }).destroy();
  });

  it('predict --interval with a bad value is a usage error (exit 2) naming the flag', async () => {
    for (const bad of ['1.5', '0.8,abc', '0.9,0.9', '']) {
      const { code, stderr } = await runCli(['predict', '--model', first.modelPath, '--interval', bad], '');
      expect(code).toBe(2);
      expect(stderr).toContain('ERR_USAGE');
      expect(stderr).toContain('--interval');
    }
  });

  it('writeBatch (point forecasts only) is refused with ERR_OPTION on a predictor with intervals', async () => {
    const model = await loadModel(first.modelPath);
    const p = createPredictor(model, { interval: 0.9 });
    const C = first.expected.config.columns.length;
    await expect(p.writeBatch(['a'], new Float32Array(C).fill(1))).rejects.toMatchObject({ code: ErrorCodes.ERR_OPTION });
    p.destroy();
  });

  it('predict --interval on NDJSON input gives the records it gives on the same CSV rows', async () => {
    const columns = first.expected.config.columns;
    const rows = readFileSync(first.csvPath, 'utf8').trim().split('\n');
    const header = rows[0].split(',');
    const at = columns.map((c) => header.indexOf(c));
    const samples = rows.slice(1, 40).map((line) => ({ series: 'a', values: at.map((i) => Number(line.split(',')[i])) }));
    const ndjson = await runCli(['predict', '--model', first.modelPath, '--interval', '0.8,0.95', '--with-actual'], samples.map((x) => JSON.stringify(x)).join('\n'));
    expect(ndjson.code, ndjson.stderr).toBe(0);
    const records = ndjson.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(records).toHaveLength(samples.length);
    expect(records.at(-1).intervals.map((x: { level: number }) => x.level)).toEqual([0.8, 0.95]);
    expect(records.at(-1).intervals[0].lower).toHaveLength(columns.length);
  });

  it('unusable validation_residuals metadata is refused with ERR_MODEL_METADATA when intervals are asked for', async () => {
    const file = parseSafetensors(readFileSync(first.modelPath));
    const C = first.expected.config.columns.length;
    const withResiduals = (value: string) => modelFromBytes(writeSafetensors(Object.fromEntries(file.tensors), { ...file.metadata, validation_residuals: value }));
    for (const bad of ['not json', '[1,2]', JSON.stringify({ original: [[1, 2]].concat(Array(C).fill([1])) }), JSON.stringify({ normalised: Array(C).fill([]) }), JSON.stringify({ normalised: Array(C).fill([1, 'x']) }), '{}']) {
      const model = withResiduals(bad);
      expect(codeOf(ModelError, () => createPredictor(model, { interval: 0.9 }))).toBe(ErrorCodes.ERR_MODEL_METADATA);
      // Without intervals the residuals are not read, so the model still forecasts.
      createPredictor(model).destroy();
    }
  });
});
