/**
 * What a series id may be. State is kept per id (series-slots.ts) and snapshots carry ids
 * (snapshot.ts), so the rule lives in this layer; samples (stream/sample.ts) and subscriptions
 * (serve/forecasts-endpoint.ts) check ids with the same function.
 *
 * Ids are user data, but bounded: a megabyte "id" is an attack, not a sensor.
 */
export const MAX_SERIES_ID_LENGTH = 256;

export function isSeriesId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_SERIES_ID_LENGTH;
}
