// serve() checks every option once, before it loads anything; the CLI only maps flags onto them.
import { describe, expect, it } from 'vitest';
import { ErrorCodes, OptionError } from '../../src/errors.js';
import { resolveServeOptions } from '../../src/serve/options.js';
import { serve } from '../../src/serve/server.js';
import { PREDICTOR_NUMBERS } from '../../src/stream/predictor-options.js';
import { codeOf } from '../helpers/error-code.js';
import { runCli } from '../helpers/cli.js';

describe('serve options', () => {
  it("predictor options are checked with the predictor's own ranges, before the model is loaded", async () => {
    const { min } = PREDICTOR_NUMBERS.capacity;
    // The model path does not exist: an ERR_OPTION (not ERR_MODEL_IO) proves the check came first.
    await expect(serve({ model: '/nonexistent/model.safetensors', capacity: min - 1 })).rejects.toMatchObject({ code: ErrorCodes.ERR_OPTION, details: { option: 'capacity' } });
    expect(codeOf(OptionError, () => resolveServeOptions({ horizon: PREDICTOR_NUMBERS.horizon.max + 1 }))).toBe(ErrorCodes.ERR_OPTION);
    expect(codeOf(OptionError, () => resolveServeOptions({ workers: PREDICTOR_NUMBERS.workers.max + 1 }))).toBe(ErrorCodes.ERR_OPTION);
    expect(codeOf(OptionError, () => resolveServeOptions({ knownSeries: [''] }))).toBe(ErrorCodes.ERR_OPTION);
    expect(resolveServeOptions({ capacity: min }).predictor.capacity).toBe(min);
  });

  it('limits, port, rate and format have one range each', () => {
    expect(codeOf(OptionError, () => resolveServeOptions({ limits: { history: 100_001 } }))).toBe(ErrorCodes.ERR_OPTION);
    expect(resolveServeOptions({ limits: { history: 100_000 } }).limits.history).toBe(100_000);
    expect(codeOf(OptionError, () => resolveServeOptions({ port: 65_536 }))).toBe(ErrorCodes.ERR_OPTION);
    expect(codeOf(OptionError, () => resolveServeOptions({ rate: 0 }))).toBe(ErrorCodes.ERR_OPTION);
    expect(codeOf(OptionError, () => resolveServeOptions({ format: 'xml' as never }))).toBe(ErrorCodes.ERR_OPTION);
  });

  it("the CLI reports the library's option errors as usage errors on the flag (exit 2)", async () => {
    for (const [flag, value] of [['--port', '65536'], ['--rate', '0'], ['--history', '0'], ['--capacity', '1'], ['--format', 'xml']]) {
      const r = await runCli(['serve', flag, value]);
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^gru-stream: ERR_USAGE: ${flag}: options\\.`));
    }
  });
});
