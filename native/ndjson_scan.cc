// The NDJSON sample scanner: lines of bytes to float64 rows without a JS string or object per
// number. Baseline x86-64 code (no AVX): it is used whenever the addon loads.
//
//   scanNdjson(buf, start, end, shape, meta, nums, values) -> lines scanned
//     buf: Uint8Array; [start, end): bytes to scan; only lines ending in '\n' before `end` count.
//     shape: Int32Array [columns, maxIdBytes, positiveOnly]
//     meta: Int32Array, kMetaStride ints per line (src/stream/ndjson-scan.ts names them)
//     nums: Float64Array, 2 per line: t (when a number), seq (-1 when absent)
//     values: Float64Array, `columns` per line (fast lines only)
//   Stops early when meta, nums or values is full.
//   scanMessage (below) reads an /ingest message the same way: one sample object or an array of them.
//
// A line is FAST only when JSON.parse + checkSample would accept it with exactly these values: a
// flat object with keys "series" (ASCII, no escapes), "values" (or "value"), optionally "t" (a
// number or an ASCII string without escapes) and "seq" (a plain integer), each at most once, any
// order, JSON whitespace anywhere; numbers in JSON grammar, converted by std::from_chars (correctly
// rounded, as JSON.parse is), finite and within float32 range. Everything else is GENERAL and the
// caller parses it with JSON.parse, so errors and odd-but-valid input keep one code path.
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include "ndjson_scan.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "napi-args.h"

namespace {

enum Kind : int32_t { kBlank = 0, kFast = 1, kGeneral = 2 };
enum TKind : int32_t { kNoT = 0, kNumberT = 1, kStringT = 2 };
// meta per line: kind, line start, line end (before "\r\n"), id start, id end, t kind, t start, t end.
constexpr int kMetaStride = 8;
constexpr int kTKindAt = 5;
constexpr double kFloat32Max = 3.4028234663852886e38;
// Larger integers are not all exact doubles: such a seq goes the general way (JSON.parse decides).
constexpr int kMaxSeqDigits = 15;

struct Cursor {
  const uint8_t* p;
  const uint8_t* end;  // the line's '\n'
  void ws() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
  }
  bool take(uint8_t c) {
    if (p < end && *p == c) {
      p++;
      return true;
    }
    return false;
  }
};

// A string without escapes or non-ASCII bytes, after its opening quote; false if it is anything else.
bool plainString(Cursor& c, const uint8_t** s, const uint8_t** e) {
  *s = c.p;
  while (c.p < c.end) {
    const uint8_t b = *c.p;
    if (b == '"') {
      *e = c.p++;
      return true;
    }
    if (b == '\\' || b < 0x20 || b >= 0x80) return false;
    c.p++;
  }
  return false;
}

inline bool digit(uint8_t b) { return b >= '0' && b <= '9'; }

// One number in JSON grammar, converted; false if the grammar or the conversion fails.
// std::from_chars reads the number first (it stops where the number ends); then what JSON forbids
// and from_chars allows is refused: "inf"/"nan", a missing leading digit (".5"), a leading zero
// ("01"), and a '.' without a digit after it ("1.", "1.e5"). One pass over the digits, not two.
bool number(Cursor& c, double* out) {
  const char* first = reinterpret_cast<const char*>(c.p);
  const char* end = reinterpret_cast<const char*>(c.end);
  const char* d = first + (first < end && *first == '-');
  if (d >= end || !digit(*d) || (*d == '0' && d + 1 < end && digit(d[1]))) return false;
  const std::from_chars_result r = std::from_chars(first, end, *out);
  if (r.ec != std::errc() || !std::isfinite(*out)) return false;
  const char* dot = static_cast<const char*>(memchr(d, '.', static_cast<size_t>(r.ptr - d)));
  if (dot && !(dot + 1 < r.ptr && digit(dot[1]))) return false;
  c.p = reinterpret_cast<const uint8_t*>(r.ptr);
  return true;
}

// A model input value: a number the kernels can take (and, for log-return models, above zero).
bool value(Cursor& c, bool positiveOnly, double* out) {
  if (!number(c, out) || *out > kFloat32Max || *out < -kFloat32Max) return false;
  return !positiveOnly || *out > 0;
}

// A non-negative integer written plainly (no sign, fraction or exponent), small enough to be exact.
bool seq(Cursor& c, double* out) {
  const uint8_t* s = c.p;
  if (c.take('0')) {
    *out = 0;
  } else {
    int64_t v = 0;
    while (c.p < c.end && digit(*c.p)) v = v * 10 + (*c.p++ - '0');
    if (c.p == s || c.p - s > kMaxSeqDigits || *s == '0') return false;
    *out = static_cast<double>(v);
  }
  return !(c.p < c.end && (*c.p == '.' || *c.p == 'e' || *c.p == 'E' || digit(*c.p)));
}

struct Shape {
  int columns;
  int maxIdBytes;
  bool positiveOnly;
};

enum Key { kSeries, kValues, kValue, kT, kSeq, kUnknown };

Key keyOf(const uint8_t* s, const uint8_t* e) {
  const size_t n = static_cast<size_t>(e - s);
  auto is = [&](const char* k) { return n == strlen(k) && memcmp(s, k, n) == 0; };
  if (is("series")) return kSeries;
  if (is("values")) return kValues;
  if (is("value")) return kValue;
  if (is("t")) return kT;
  if (is("seq")) return kSeq;
  return kUnknown;
}

// Scans one sample object at c (its '{' next); fills its meta, nums and values; FAST or GENERAL.
Kind scanObject(const uint8_t* base, Cursor& c, const Shape& shape, int32_t* m, double* nums, double* vals) {
  m[kTKindAt] = kNoT;
  nums[1] = -1;
  if (!c.take('{')) return kGeneral;
  unsigned seen = 0;
  for (;;) {
    c.ws();
    const uint8_t *ks, *ke;
    if (!c.take('"') || !plainString(c, &ks, &ke)) return kGeneral;
    const Key key = keyOf(ks, ke);
    if (key == kUnknown || (seen & (1u << key))) return kGeneral;
    seen |= 1u << key;
    c.ws();
    if (!c.take(':')) return kGeneral;
    c.ws();
    switch (key) {
      case kSeries: {
        const uint8_t *s, *e;
        if (!c.take('"') || !plainString(c, &s, &e) || s == e || e - s > shape.maxIdBytes) return kGeneral;
        m[3] = static_cast<int32_t>(s - base), m[4] = static_cast<int32_t>(e - base);
        break;
      }
      case kValues: {
        if (!c.take('[')) return kGeneral;
        int n = 0;
        c.ws();
        if (!c.take(']')) {
          for (;;) {
            c.ws();
            if (n == shape.columns || !value(c, shape.positiveOnly, &vals[n])) return kGeneral;
            n++;
            c.ws();
            if (c.take(']')) break;
            if (!c.take(',')) return kGeneral;
          }
        }
        if (n != shape.columns) return kGeneral;
        break;
      }
      case kValue:
        if (shape.columns != 1 || !value(c, shape.positiveOnly, &vals[0])) return kGeneral;
        break;
      case kT:
        if (c.take('"')) {
          const uint8_t *s, *e;
          if (!plainString(c, &s, &e)) return kGeneral;
          m[5] = kStringT, m[6] = static_cast<int32_t>(s - base), m[7] = static_cast<int32_t>(e - base);
        } else {
          if (!number(c, &nums[0])) return kGeneral;
          m[5] = kNumberT;
        }
        break;
      case kSeq:
        if (!seq(c, &nums[1])) return kGeneral;
        break;
      default:
        return kGeneral;
    }
    c.ws();
    if (c.take('}')) break;
    if (!c.take(',')) return kGeneral;
  }
  const bool oneValueKey = ((seen >> kValues) & 1) != ((seen >> kValue) & 1);
  return (seen & (1u << kSeries)) && oneValueKey ? kFast : kGeneral;
}

// Scans one line [p, nl): blank, one FAST sample object and nothing else, or GENERAL.
Kind scanLine(const uint8_t* base, const uint8_t* p, const uint8_t* nl, const Shape& shape, int32_t* m, double* nums,
              double* vals) {
  Cursor c{p, nl};
  c.ws();
  if (c.p == nl) return kBlank;
  const Kind kind = scanObject(base, c, shape, m, nums, vals);
  c.ws();
  return kind == kFast && c.p == nl ? kFast : kGeneral;
}

using napi_args::fail;

napi_value scanNdjson(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!napi_args::args(env, info, 7, argv, "scanNdjson(buf, start, end, shape, meta, nums, values)")) return nullptr;
  void *bufData, *shapeData, *metaData, *numsData, *valuesData;
  size_t bufLen, shapeLen, metaLen, numsLen, valuesLen;
  int64_t start = 0, end = 0;
  using napi_args::typedArray;
  if (!typedArray(env, argv[0], napi_uint8_array, &bufData, &bufLen) || napi_get_value_int64(env, argv[1], &start) != napi_ok ||
      napi_get_value_int64(env, argv[2], &end) != napi_ok || !typedArray(env, argv[3], napi_int32_array, &shapeData, &shapeLen) ||
      !typedArray(env, argv[4], napi_int32_array, &metaData, &metaLen) || !typedArray(env, argv[5], napi_float64_array, &numsData, &numsLen) ||
      !typedArray(env, argv[6], napi_float64_array, &valuesData, &valuesLen))
    return fail(env, "scanNdjson: wrong argument types");
  const int32_t* sh = static_cast<const int32_t*>(shapeData);
  if (shapeLen < 3 || sh[0] < 1 || start < 0 || end < start || static_cast<size_t>(end) > bufLen) return fail(env, "scanNdjson: bad range or shape");
  const Shape shape{sh[0], sh[1], sh[2] != 0};
  const size_t capacity = std::min(metaLen / kMetaStride, std::min(numsLen / 2, valuesLen / static_cast<size_t>(shape.columns)));
  const uint8_t* base = static_cast<const uint8_t*>(bufData);
  const uint8_t* p = base + start;
  const uint8_t* stop = base + end;
  int32_t* meta = static_cast<int32_t*>(metaData);
  double* nums = static_cast<double*>(numsData);
  double* vals = static_cast<double*>(valuesData);
  size_t lines = 0;
  while (lines < capacity) {
    const uint8_t* nl = static_cast<const uint8_t*>(memchr(p, '\n', static_cast<size_t>(stop - p)));
    if (!nl) break;
    int32_t* m = meta + lines * kMetaStride;
    double* nm = nums + lines * 2;
    const Kind kind = scanLine(base, p, nl, shape, m, nm, vals + lines * shape.columns);
    m[0] = kind;
    m[1] = static_cast<int32_t>(p - base);
    m[2] = static_cast<int32_t>((nl > p && nl[-1] == '\r' ? nl - 1 : nl) - base);
    p = nl + 1;
    lines++;
  }
  napi_value result;
  napi_create_uint32(env, static_cast<uint32_t>(lines), &result);
  return result;
}

// scanMessage(buf, shape, meta, nums, values) -> samples, or -1: an /ingest text message that is one
// sample object or an array of them, every one FAST, read like scanNdjson's lines; -1 (the caller
// then uses JSON.parse) for anything else, or for more samples than the buffers hold.
napi_value scanMessage(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!napi_args::args(env, info, 5, argv, "scanMessage(buf, shape, meta, nums, values)")) return nullptr;
  void *bufData, *shapeData, *metaData, *numsData, *valuesData;
  size_t bufLen, shapeLen, metaLen, numsLen, valuesLen;
  using napi_args::typedArray;
  if (!typedArray(env, argv[0], napi_uint8_array, &bufData, &bufLen) || !typedArray(env, argv[1], napi_int32_array, &shapeData, &shapeLen) ||
      !typedArray(env, argv[2], napi_int32_array, &metaData, &metaLen) || !typedArray(env, argv[3], napi_float64_array, &numsData, &numsLen) ||
      !typedArray(env, argv[4], napi_float64_array, &valuesData, &valuesLen))
    return fail(env, "scanMessage(buf, shape, meta, nums, values): wrong argument types");
  const int32_t* sh = static_cast<const int32_t*>(shapeData);
  if (shapeLen < 3 || sh[0] < 1) return fail(env, "scanMessage: bad shape");
  const Shape shape{sh[0], sh[1], sh[2] != 0};
  const size_t capacity = std::min(metaLen / kMetaStride, std::min(numsLen / 2, valuesLen / static_cast<size_t>(shape.columns)));
  const uint8_t* base = static_cast<const uint8_t*>(bufData);
  Cursor c{base, base + bufLen};
  int32_t* meta = static_cast<int32_t*>(metaData);
  double* nums = static_cast<double*>(numsData);
  double* vals = static_cast<double*>(valuesData);
  int64_t count = 0;
  auto one = [&]() {
    if (static_cast<size_t>(count) >= capacity) return false;
    const Kind k = scanObject(base, c, shape, meta + count * kMetaStride, nums + count * 2, vals + count * shape.columns);
    meta[count * kMetaStride] = k;
    count++;
    return k == kFast;
  };
  c.ws();
  bool ok;
  if (c.take('[')) {
    c.ws();
    ok = true;
    if (!c.take(']')) {
      for (;;) {
        c.ws();
        if (!one()) {
          ok = false;
          break;
        }
        c.ws();
        if (c.take(']')) break;
        if (!c.take(',')) {
          ok = false;
          break;
        }
      }
    }
  } else {
    ok = one();
  }
  c.ws();
  napi_value result;
  napi_create_int64(env, ok && c.p == c.end ? count : -1, &result);
  return result;
}

}  // namespace

void ndjson_scan_register(napi_env env, napi_value exports) {
  napi_args::exportFunction(env, exports, "scanMessage", scanMessage);
  napi_args::exportFunction(env, exports, "scanNdjson", scanNdjson);
}
