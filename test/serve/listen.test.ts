// A port that is taken is a coded error, and the failed start leaves nothing running.
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { startServer } from './serve-helpers.js';

describe('listening', () => {
  it('a taken port rejects with ERR_LISTEN; the first server keeps serving', async () => {
    const first = await startServer({});
    try {
      await expect(startServer({ port: first.port })).rejects.toMatchObject({ code: ErrorCodes.ERR_LISTEN, details: { port: first.port } });
      const health = await (await fetch(`${first.url}healthz`)).json();
      expect(health.status).toBe('ok');
    } finally {
      await first.close();
    }
  });
});
