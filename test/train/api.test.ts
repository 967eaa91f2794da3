// The library boundary of training: stateDict() for every kind of model, coded errors for bad calls.
import { describe, expect, it } from 'vitest';
import { InputError, ModelError, OptionError } from '../../src/errors.js';
import * as api from '../../src/index.js';
import { modelFromBytes } from '../../src/model/load-model.js';
import { writeSafetensors } from '../../src/model/safetensors.js';
import { codeOf } from '../helpers/error-code.js';
import { randomModel, randomSequence } from '../model/random-model.js';

const sizes = (numLayers: number, outputSize: number) => ({ inputSize: 3, hiddenSize: 4, numLayers, outputSize });

describe('model.stateDict()', () => {
  it.each([
    ['pytorch', 1, 0],
    ['pytorch', 2, 2],
    ['seed', 1, 1],
    ['seed', 3, 0],
  ] as const)('%s L=%i O=%i: every tensor under its file name and shape, in state_dict order, as copies', (variant, L, O) => {
    const rm = randomModel(variant, sizes(L, O), 9);
    // Written in reverse order: stateDict()'s order is canonical, not the file's.
    const reversed = Object.fromEntries(Object.entries(rm.tensors).reverse());
    const model = modelFromBytes(writeSafetensors(reversed, rm.metadata));
    const state = model.stateDict();
    expect(Object.keys(state)).toEqual(Object.keys(rm.tensors));
    for (const [name, t] of Object.entries(rm.tensors)) {
      expect(state[name].shape).toEqual(t.shape);
      expect(state[name].values).toEqual(t.data);
    }
    const first = Object.keys(state)[0];
    state[first].values.fill(42);
    expect(model.stateDict()[first].values).toEqual(rm.tensors[first].data);
  });
});

describe('gradients() and fitSteps() reject bad calls with coded errors', () => {
  const rm = randomModel('pytorch', sizes(1, 2), 3);
  const model = modelFromBytes(writeSafetensors(rm.tensors, rm.metadata));
  const input = randomSequence(1, 4, 2, 3);
  const target = randomSequence(2, 4, 2, 2);

  it('is exported from the package root', () => {
    expect(typeof api.gradients).toBe('function');
    expect(typeof api.fitSteps).toBe('function');
    expect(typeof api.GruBackprop).toBe('function');
    expect(typeof api.Adam).toBe('function');
  });

  it('names the argument and position of a bad tensor', () => {
    expect(codeOf(InputError, () => api.gradients(model, input, randomSequence(2, 4, 2, 3)))).toBe('ERR_INPUT_SHAPE');
    expect(codeOf(InputError, () => api.gradients(model, input, target.slice(1)))).toBe('ERR_INPUT_SHAPE');
    expect(codeOf(InputError, () => api.gradients(model, input, target, { h0: [[[0, 0, 0, 0]]] }))).toBe('ERR_INPUT_SHAPE');
    const bad = structuredClone(target);
    bad[2][1][0] = Number.NaN;
    expect(codeOf(InputError, () => api.gradients(model, input, bad))).toBe('ERR_NON_FINITE');
  });

  it('refuses a burnIn that leaves no step in the loss, and bad optimiser options', () => {
    expect(codeOf(OptionError, () => api.gradients(model, input, target, { burnIn: 4 }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => api.gradients(model, input, target, { burnIn: 1.5 }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => api.fitSteps(model, input, target, { steps: -1 }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => api.fitSteps(model, input, target, { steps: 1, lr: 0 }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => api.fitSteps(model, input, target, { steps: 1, betas: [0.9, 1] }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => api.fitSteps(model, input, target, { steps: 1, clipGradNorm: -1 }))).toBe('ERR_OPTION');
  });

  it('needs a head: the loss is on its forecasts', () => {
    const noHead = randomModel('pytorch', sizes(1, 0), 3);
    const m = modelFromBytes(writeSafetensors(noHead.tensors, noHead.metadata));
    expect(codeOf(ModelError, () => api.gradients(m, input, target))).toBe('ERR_MODEL_SHAPE');
  });
});
