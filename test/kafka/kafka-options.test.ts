// Options of `gru-stream kafka` are validated once, before anything connects: these need no broker.
import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import { kafkaSecurityFromEnv } from '../../src/kafka/kafka-env.js';
import { resolveKafkaOptions } from '../../src/kafka/kafka-options.js';
import { runCli } from '../helpers/cli.js';
import { codeOf } from '../helpers/error-code.js';

const base = { brokers: ['127.0.0.1:9092'], inputTopic: 'in', outputTopic: 'out', stateDir: '/tmp/x', model: 'm' };

describe('kafka options', () => {
  it('refuses missing and malformed options with ERR_OPTION', () => {
    expect(codeOf(OptionError, () => resolveKafkaOptions({ ...base, brokers: ['nohost'] }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => resolveKafkaOptions({ ...base, outputTopic: 'in' }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => resolveKafkaOptions({ ...base, stateDir: '' }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => resolveKafkaOptions({ ...base, sessionTimeoutMs: 10 }))).toBe('ERR_OPTION');
    const r = resolveKafkaOptions(base);
    expect([r.group, r.checkpointIntervalMs, r.sessionTimeoutMs, r.exactlyOnce]).toEqual(['gru-stream', 10_000, 30_000, false]);
  });

  it('reads SASL and TLS from the environment, and names a bad variable', () => {
    expect(kafkaSecurityFromEnv({})).toEqual({});
    expect(kafkaSecurityFromEnv({ GRU_STREAM_KAFKA_SASL_MECHANISM: 'scram-sha-512', GRU_STREAM_KAFKA_SASL_USERNAME: 'u', GRU_STREAM_KAFKA_SASL_PASSWORD: 'p', GRU_STREAM_KAFKA_SSL: '1' }))
      .toEqual({ sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' }, ssl: true });
    expect(codeOf(OptionError, () => kafkaSecurityFromEnv({ GRU_STREAM_KAFKA_SASL_MECHANISM: 'kerberos' }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => kafkaSecurityFromEnv({ GRU_STREAM_KAFKA_SASL_MECHANISM: 'plain' }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => kafkaSecurityFromEnv({ GRU_STREAM_KAFKA_SSL_CA: '/nonexistent/ca.pem' }))).toBe('ERR_OPTION');
  });

  it('the CLI exits 2 with the missing option named', async () => {
    const r = await runCli(['kafka', '--brokers', '127.0.0.1:9092', '--input-topic', 'in', '--output-topic', 'out']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/ERR_USAGE: .*--state-dir is required/);
    const bad = await runCli(['kafka', '--brokers', 'a b', '--input-topic', 'in', '--output-topic', 'out', '--state-dir', 'x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--brokers must be host:port/);
  });
});
