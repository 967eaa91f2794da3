/**
 * JSON numbers read straight from a line of text, without a substring or a parse tree when they
 * are short: the NDJSON fast path's number reader.
 *
 * Exactness: a number of at most 15 significant digits with at most 22 decimals is m / 10^k with
 * m and 10^k both exact doubles, so the one IEEE division is correctly rounded, which is what
 * JSON.parse returns (Clinger's fast path). Anything longer, or with an exponent, goes through
 * Number() on its text, which is JSON.parse's own conversion for the JSON number grammar.
 */

const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** The value of the last number scanned by scanNumber. */
export let scannedNumber = 0;

const ZERO = 48;
const NINE = 57;

/**
 * Scan one JSON number (RFC 8259 grammar: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?) starting at `i`.
 * Returns the index after it and sets scannedNumber, or -1 if the text there is not a JSON number.
 */
export function scanNumber(text: string, i: number, end: number): number {
  const start = i;
  let c = i < end ? text.charCodeAt(i) : -1;
  const negative = c === 45; // '-'
  if (negative) c = ++i < end ? text.charCodeAt(i) : -1;
  let m = 0;
  let digits = 0;
  if (c === ZERO) {
    c = ++i < end ? text.charCodeAt(i) : -1;
  } else if (c > ZERO && c <= NINE) {
    do {
      m = m * 10 + (c - ZERO);
      digits++;
      c = ++i < end ? text.charCodeAt(i) : -1;
    } while (c >= ZERO && c <= NINE);
  } else {
    return -1;
  }
  let decimals = 0;
  if (c === 46) { // '.'
    c = ++i < end ? text.charCodeAt(i) : -1;
    if (!(c >= ZERO && c <= NINE)) return -1;
    do {
      m = m * 10 + (c - ZERO);
      // Leading zeros of a fraction (0.000123) are not significant.
      if (digits > 0 || c !== ZERO) digits++;
      decimals++;
      c = ++i < end ? text.charCodeAt(i) : -1;
    } while (c >= ZERO && c <= NINE);
  }
  let exact = digits <= 15 && decimals <= 22;
  if (c === 101 || c === 69) { // 'e' or 'E'
    exact = false;
    c = ++i < end ? text.charCodeAt(i) : -1;
    if (c === 43 || c === 45) c = ++i < end ? text.charCodeAt(i) : -1;
    if (!(c >= ZERO && c <= NINE)) return -1;
    do c = ++i < end ? text.charCodeAt(i) : -1;
    while (c >= ZERO && c <= NINE);
  }
  if (exact) {
    const v = m / POW10[decimals];
    scannedNumber = negative ? -v : v;
  } else {
    scannedNumber = Number(text.slice(start, i));
  }
  return i;
}
