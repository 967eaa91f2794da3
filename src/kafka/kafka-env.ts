import { readFileSync } from 'node:fs';
import type { SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import { OptionError } from '../errors.js';

/**
 * Kafka client security from the environment, so secrets stay out of argv (and `ps`):
 *
 *   GRU_STREAM_KAFKA_SASL_MECHANISM   plain | scram-sha-256 | scram-sha-512
 *   GRU_STREAM_KAFKA_SASL_USERNAME    GRU_STREAM_KAFKA_SASL_PASSWORD
 *   GRU_STREAM_KAFKA_SSL              1 / true: TLS with the system's CAs (implied by the three below)
 *   GRU_STREAM_KAFKA_SSL_CA           PEM file of the CA(s) to trust
 *   GRU_STREAM_KAFKA_SSL_CERT         GRU_STREAM_KAFKA_SSL_KEY   PEM files for client-certificate auth
 */
export function kafkaSecurityFromEnv(env: NodeJS.ProcessEnv): { sasl?: SASLOptions; ssl?: boolean | ConnectionOptions } {
  const out: { sasl?: SASLOptions; ssl?: boolean | ConnectionOptions } = {};
  const mechanism = env.GRU_STREAM_KAFKA_SASL_MECHANISM;
  if (mechanism) {
    if (mechanism !== 'plain' && mechanism !== 'scram-sha-256' && mechanism !== 'scram-sha-512') {
      throw new OptionError(`GRU_STREAM_KAFKA_SASL_MECHANISM must be plain, scram-sha-256 or scram-sha-512 (got "${mechanism}")`, { option: 'GRU_STREAM_KAFKA_SASL_MECHANISM' });
    }
    const username = env.GRU_STREAM_KAFKA_SASL_USERNAME;
    const password = env.GRU_STREAM_KAFKA_SASL_PASSWORD;
    if (!username || password === undefined) throw new OptionError('GRU_STREAM_KAFKA_SASL_MECHANISM needs GRU_STREAM_KAFKA_SASL_USERNAME and GRU_STREAM_KAFKA_SASL_PASSWORD', { option: 'GRU_STREAM_KAFKA_SASL_USERNAME' });
    out.sasl = { mechanism, username, password } as SASLOptions;
  }
  const pem = (key: string): Buffer | undefined => {
    const path = env[key];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new OptionError(`${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { option: key });
    }
  };
  const tls: ConnectionOptions = {};
  const ca = pem('GRU_STREAM_KAFKA_SSL_CA');
  const cert = pem('GRU_STREAM_KAFKA_SSL_CERT');
  const key = pem('GRU_STREAM_KAFKA_SSL_KEY');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (Object.keys(tls).length > 0) out.ssl = tls;
  else if (/^(1|true|yes)$/i.test(env.GRU_STREAM_KAFKA_SSL ?? '')) out.ssl = true;
  return out;
}
