import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/errors.js';
import { resolveKafkaOptions } from '../../src/kafka/kafka-options.js';
import { resolveMqttOptions } from '../../src/mqtt/mqtt-options.js';
import { seriesFromTopic } from '../../src/mqtt/topic-series.js';
import { runCli } from '../helpers/cli.js';
import { codeOf } from '../helpers/error-code.js';

const base = { url: 'mqtt://127.0.0.1:1883', topic: 'sensors/+/reading' };

describe('MQTT options and topics', () => {
  it('takes the series id from the first + level unless told another', () => {
    expect(resolveMqttOptions(base).seriesLevel).toBe(1);
    expect(resolveMqttOptions({ ...base, topic: 'site/+/+/value' }).seriesLevel).toBe(1);
    expect(resolveMqttOptions({ ...base, topic: 'site/+/+/value', seriesLevel: 2 }).seriesLevel).toBe(2);
    expect(resolveMqttOptions({ ...base, topic: '$share/g/sensors/+/reading' }).seriesLevel).toBe(1);
    expect(resolveMqttOptions({ ...base, topic: 'sensors/#', seriesLevel: 3 }).seriesLevel).toBe(3);
    expect(seriesFromTopic('sensors/pump-7/reading', 1)).toBe('pump-7');
    expect(seriesFromTopic('sensors//reading', 1)).toBeUndefined();
    expect(seriesFromTopic('sensors', 1)).toBeUndefined();
  });

  it('refuses what cannot work, with ERR_OPTION', () => {
    for (const bad of [
      { ...base, url: 'http://x:1' },
      { ...base, url: 'not a url' },
      { ...base, topic: '' },
      { ...base, topic: 'sensors/a+/reading' },
      { ...base, topic: 'sensors/#/reading' },
      { ...base, topic: 'sensors/a/reading' },
      { ...base, seriesLevel: 5 },
      { ...base, publish: 'forecasts/all' },
      { ...base, publish: 'forecasts/+/{series}' },
      { ...base, reconnectPeriodMs: 0 },
      { url: base.url },
    ]) expect(codeOf(OptionError, () => resolveMqttOptions(bad)), JSON.stringify(bad)).toBe('ERR_OPTION');
  });

  it('publishing alone needs no subscription topic (serve with /ingest, or kafka)', () => {
    const o = resolveMqttOptions({ url: base.url, publish: 'forecasts/{series}' });
    expect(o.topic).toBeUndefined();
    expect(o.publish).toBe('forecasts/{series}');
  });

  it('kafka takes MQTT for publishing only, and says so', async () => {
    const kafka = { brokers: ['127.0.0.1:9092'], inputTopic: 'in', outputTopic: 'out', stateDir: '/tmp/x', model: 'm' };
    expect(codeOf(OptionError, () => resolveKafkaOptions({ ...kafka, mqtt: { url: base.url, topic: 'sensors/+/reading', publish: 'f/{series}' } }))).toBe('ERR_OPTION');
    expect(codeOf(OptionError, () => resolveKafkaOptions({ ...kafka, mqtt: { url: base.url } }))).toBe('ERR_OPTION');
    const resolved = resolveKafkaOptions({ ...kafka, clientId: 'node-7', mqtt: { url: base.url, publish: 'f/{series}' } });
    expect(resolved.mqtt?.clientId).toBe('node-7');
    const r = await runCli(['kafka', '--brokers', '127.0.0.1:1', '--input-topic', 'in', '--output-topic', 'out', '--state-dir', '/tmp/x', '--mqtt', base.url, '--mqtt-topic', 'sensors/+/reading']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--mqtt-topic is serve's; kafka reads samples from --input-topic/);
  });

  it('the serve CLI says which flag is missing', async () => {
    const r = await runCli(['serve', '--mqtt', 'mqtt://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--mqtt needs --mqtt-topic .*--mqtt-publish/);
    const stray = await runCli(['serve', '--mqtt-publish', 'f/{series}']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--mqtt-publish needs --mqtt/);
  });
});
