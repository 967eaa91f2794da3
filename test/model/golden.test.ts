// Golden vectors made by real PyTorch (and float64 numpy for the seed variant): see
// ../shared/fixtures/README.md and its generator fixtures/gen.py named in manifest.json.
import { describe, expect, it } from 'vitest';
import { availableKernels } from '../../src/kernel/select.js';
import { loadModel } from '../../src/model/load-model.js';
import { goldenCases, maxAbsDiff } from '../helpers/fixtures.js';

const TOLERANCE = 1e-5;
const cases = goldenCases();

describe.each(availableKernels())('golden vectors, %s kernel', (kernel) => {
  it('finds golden cases of both variants', () => {
    expect(cases.some((c) => c.config.variant === 'pytorch')).toBe(true);
    expect(cases.some((c) => c.config.variant === 'seed')).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s matches within 1e-5', async (_name, c) => {
    const model = await loadModel(c.modelPath, { kernel });
    expect(model.config.inputSize).toBe(c.config.input_size);
    expect(model.config.hiddenSize).toBe(c.config.hidden_size);
    expect(model.config.numLayers).toBe(c.config.num_layers);
    expect(model.config.outputSize).toBe(c.config.output_size ?? 0);
    expect(model.config.variant).toBe(c.config.variant);
    const result = model.forward(c.input, c.h0);
    expect(maxAbsDiff(result.output, c.output)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(result.hN, c.h_n)).toBeLessThan(TOLERANCE);
    if (c.forecast) {
      expect(result.forecast).toBeDefined();
      expect(maxAbsDiff(result.forecast, c.forecast)).toBeLessThan(TOLERANCE);
    } else {
      expect(result.forecast).toBeUndefined();
    }
  });
});
