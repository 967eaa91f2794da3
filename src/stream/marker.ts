/**
 * Written to a predictor among samples, a Marker produces no record: the predictor emits
 * 'marker' with its token once every write before it has been applied (stepped, its record
 * pushed, or dropped as a duplicate or a rejection). Writes are applied in order, so this is how
 * a source learns that "everything I wrote up to here is in the state" (the /ingest acks).
 */
export class Marker {
  constructor(readonly token: unknown) {}
}
