import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { sampleFromPayload } from '../../src/stream/payload.js';
import { codeOf } from '../helpers/error-code.js';

describe('sampleFromPayload (Kafka values, MQTT payloads)', () => {
  it('reads a bare number as a one-column sample of the given series', () => {
    expect(sampleFromPayload('12.5', 'a', true)).toEqual({ series: 'a', value: 12.5 });
  });

  it('fills in the series of a sample object, or overrides it when the topic names the sensor', () => {
    expect(sampleFromPayload('{"values":[1,2],"t":3}', 'a', false)).toEqual({ series: 'a', values: [1, 2], t: 3 });
    expect(sampleFromPayload('{"series":"b","value":1}', 'a', false)).toEqual({ series: 'b', value: 1 });
    expect(sampleFromPayload('{"series":"b","value":1}', 'a', true)).toEqual({ series: 'a', value: 1 });
  });

  it('refuses text that is neither with ERR_PARSE (the predictor checks the sample itself)', () => {
    expect(codeOf(InputError, () => sampleFromPayload('{oops', 'a', true))).toBe('ERR_PARSE');
    expect(codeOf(InputError, () => sampleFromPayload('[1,2]', 'a', true))).toBe('ERR_PARSE');
    expect(codeOf(InputError, () => sampleFromPayload('"text"', 'a', true))).toBe('ERR_PARSE');
  });
});
