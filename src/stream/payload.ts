import { ErrorCodes, InputError } from '../errors.js';

/**
 * One message from a broker (a Kafka record value, an MQTT payload) as a sample the predictor
 * reads: a sample JSON object (`{"values": [...]}`, `{"value": x}`, optional `t`, `series`), or a
 * bare number for one-column models. The series id comes from outside the payload (the Kafka key,
 * the MQTT topic): `seriesWins` says whether it overrides a `series` field inside (MQTT, where the
 * topic names the sensor) or only fills one in (Kafka, as the record format says).
 * Throws InputError(ERR_PARSE) for a payload that is neither; the predictor checks the rest.
 */
export function sampleFromPayload(payload: string, series: string | undefined, seriesWins: boolean): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch (err) {
    throw new InputError(ErrorCodes.ERR_PARSE, `payload is not JSON or a number: ${(err as Error).message}`, series === undefined ? {} : { series });
  }
  if (typeof parsed === 'number') return { series, value: parsed };
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputError(ErrorCodes.ERR_PARSE, 'payload must be a sample object or a bare number', series === undefined ? {} : { series });
  }
  const sample = parsed as Record<string, unknown>;
  if (series !== undefined && (seriesWins || sample.series === undefined)) sample.series = series;
  return sample;
}
