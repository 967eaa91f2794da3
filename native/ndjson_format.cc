// The NDJSON forecast formatter: one round of records (src/stream/ndjson-rows.ts) written straight
// into a byte buffer, numbers printed exactly as JavaScript's Number#toString prints them (so the
// bytes equal JSON.stringify's). Baseline x86-64 code, used whenever the addon loads.
//
//   formatRows(data, meta, nums, values, shape, rows, steps, levels, out) -> bytes written, or -1
//     data/meta/nums/values: the round's input bytes and scan results (ndjson_scan.cc); every line
//       is BLANK or FAST (the caller checks)
//     shape: Int32Array [lines, columns, outputSize, horizon, withActual]
//     rows: Int32Array per line: >= 0 a forecast, -1 none yet (null), -2 no record (blank, duplicate)
//     steps: Float64Array per line: the default t (the series' sample count before this sample)
//     levels: Float64Array per line: horizon x outputSize decoded forecasts (original units)
//     out: Uint8Array; -1 when it is too small (the caller sizes it from the input: never in practice)
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include "ndjson_format.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "napi-args.h"

namespace {

constexpr int kMetaStride = 8;  // as ndjson_scan.cc
enum Meta { kKind = 0, kStart, kEnd, kIdStart, kIdEnd, kTKind, kTStart, kTEnd };
enum TKind { kNoT = 0, kNumberT = 1, kStringT = 2 };
constexpr int32_t kNoRecord = -2;
// Longest number text: "-" + 17 digits + "." + "e-324" and change.
constexpr size_t kMaxNumber = 32;

// ECMAScript Number::toString(x) for finite x (ECMA-262 6.1.6.1.20), from the shortest round-trip
// digits (std::to_chars, scientific): the digits d1..dk and n, with x = 0.d1..dk x 10^n.
char* jsNumber(char* p, double x) {
  if (x == 0) {  // +0 and -0 both print "0"
    *p++ = '0';
    return p;
  }
  if (x < 0) {
    *p++ = '-';
    x = -x;
  }
  char sci[kMaxNumber];
  const std::to_chars_result r = std::to_chars(sci, sci + sizeof sci, x, std::chars_format::scientific);
  // sci = d[.ddd]e(+|-)XX
  char digits[20];
  int k = 0;
  const char* s = sci;
  for (; s < r.ptr && *s != 'e'; s++)
    if (*s != '.') digits[k++] = *s;
  int e = 0;
  const bool negExp = s[1] == '-';
  for (const char* q = s + 2; q < r.ptr; q++) e = e * 10 + (*q - '0');
  const int n = (negExp ? -e : e) + 1;
  if (k <= n && n <= 21) {
    memcpy(p, digits, k), p += k;
    for (int i = k; i < n; i++) *p++ = '0';
  } else if (0 < n && n <= 21) {
    memcpy(p, digits, n), p += n;
    *p++ = '.';
    memcpy(p, digits + n, k - n), p += k - n;
  } else if (-6 < n && n <= 0) {
    *p++ = '0', *p++ = '.';
    for (int i = 0; i < -n; i++) *p++ = '0';
    memcpy(p, digits, k), p += k;
  } else {
    *p++ = digits[0];
    if (k > 1) {
      *p++ = '.';
      memcpy(p, digits + 1, k - 1), p += k - 1;
    }
    *p++ = 'e';
    *p++ = n - 1 < 0 ? '-' : '+';
    const std::to_chars_result t = std::to_chars(p, p + 8, n - 1 < 0 ? 1 - n : n - 1);
    p = t.ptr;
  }
  return p;
}

// A JSON number: non-finite values are null, as JSON.stringify prints them.
char* jsonNumber(char* p, double x) {
  if (!std::isfinite(x)) {
    memcpy(p, "null", 4);
    return p + 4;
  }
  return jsNumber(p, x);
}

char* text(char* p, const char* s) {
  const size_t n = strlen(s);
  memcpy(p, s, n);
  return p + n;
}

char* array(char* p, const double* v, int n) {
  *p++ = '[';
  for (int i = 0; i < n; i++) {
    if (i > 0) *p++ = ',';
    p = jsonNumber(p, v[i]);
  }
  *p++ = ']';
  return p;
}

struct Args {
  const uint8_t* data;
  size_t dataLen;
  const int32_t* meta;
  const double* nums;
  const double* values;
  const int32_t* rows;
  const double* steps;
  const double* levels;
  char* out;
  size_t outLen;
  int lines, C, O, H;
  bool withActual;
};

// The worst case of one line's record, beyond the id and t bytes it copies from its input line.
size_t recordBound(const Args& a) {
  return 96 + kMaxNumber * (2 * static_cast<size_t>(a.H) * a.O + a.C + 2);
}

int64_t format(const Args& a) {
  char* p = a.out;
  char* end = a.out + a.outLen;
  const size_t bound = recordBound(a);
  const int HO = a.H * a.O;
  for (int i = 0; i < a.lines; i++) {
    const int32_t row = a.rows[i];
    if (row == kNoRecord) continue;
    const int32_t* m = a.meta + static_cast<size_t>(i) * kMetaStride;
    const size_t lineBytes = static_cast<size_t>(m[kEnd] - m[kStart]);
    if (static_cast<size_t>(end - p) < bound + lineBytes) return -1;
    p = text(p, "{\"series\":\"");
    memcpy(p, a.data + m[kIdStart], m[kIdEnd] - m[kIdStart]), p += m[kIdEnd] - m[kIdStart];
    p = text(p, "\",\"t\":");
    if (m[kTKind] == kStringT) {
      *p++ = '"';
      memcpy(p, a.data + m[kTStart], m[kTEnd] - m[kTStart]), p += m[kTEnd] - m[kTStart];
      *p++ = '"';
    } else {
      p = jsNumber(p, m[kTKind] == kNumberT ? a.nums[2 * i] : a.steps[i]);
    }
    p = text(p, ",\"forecast\":");
    const double* lv = a.levels + static_cast<size_t>(i) * HO;
    if (row < 0) p = text(p, "null");
    else p = array(p, lv, a.O);
    if (a.withActual) {
      p = text(p, ",\"actual\":");
      p = array(p, a.values + static_cast<size_t>(i) * a.C, a.C);
    }
    const double seq = a.nums[2 * i + 1];
    if (seq >= 0) {
      p = text(p, ",\"seq\":");
      p = jsNumber(p, seq);
    }
    if (a.H > 1) {
      p = text(p, ",\"path\":");
      if (row < 0) {
        p = text(p, "null");
      } else {
        *p++ = '[';
        for (int k = 0; k < a.H; k++) {
          if (k > 0) *p++ = ',';
          p = array(p, lv + static_cast<size_t>(k) * a.O, a.O);
        }
        *p++ = ']';
      }
    }
    *p++ = '}', *p++ = '\n';
  }
  return p - a.out;
}

using napi_args::fail;

napi_value formatRows(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!napi_args::args(env, info, 9, argv, "formatRows(data, meta, nums, values, shape, rows, steps, levels, out)")) return nullptr;
  using napi_args::typedArray;
  void *data, *meta, *nums, *values, *shape, *rows, *steps, *levels, *out;
  size_t dataLen, metaLen, numsLen, valuesLen, shapeLen, rowsLen, stepsLen, levelsLen, outLen;
  if (!typedArray(env, argv[0], napi_uint8_array, &data, &dataLen) || !typedArray(env, argv[1], napi_int32_array, &meta, &metaLen) ||
      !typedArray(env, argv[2], napi_float64_array, &nums, &numsLen) || !typedArray(env, argv[3], napi_float64_array, &values, &valuesLen) ||
      !typedArray(env, argv[4], napi_int32_array, &shape, &shapeLen) || !typedArray(env, argv[5], napi_int32_array, &rows, &rowsLen) ||
      !typedArray(env, argv[6], napi_float64_array, &steps, &stepsLen) || !typedArray(env, argv[7], napi_float64_array, &levels, &levelsLen) ||
      !typedArray(env, argv[8], napi_uint8_array, &out, &outLen) || shapeLen < 5)
    return fail(env, "formatRows: wrong argument types");
  const int32_t* sh = static_cast<const int32_t*>(shape);
  Args a{static_cast<const uint8_t*>(data), dataLen, static_cast<const int32_t*>(meta), static_cast<const double*>(nums),
         static_cast<const double*>(values), static_cast<const int32_t*>(rows), static_cast<const double*>(steps),
         static_cast<const double*>(levels), static_cast<char*>(out), outLen, sh[0], sh[1], sh[2], sh[3], sh[4] != 0};
  const size_t L = a.lines < 0 ? 0 : static_cast<size_t>(a.lines);
  if (a.lines < 0 || a.C < 1 || a.O < 0 || a.H < 1 || metaLen < L * kMetaStride || numsLen < 2 * L || valuesLen < L * a.C ||
      rowsLen < L || stepsLen < L || levelsLen < L * a.H * a.O)
    return fail(env, "formatRows: arrays shorter than the shape says");
  // Every id and t span must lie inside data (they come from a scan of it; checked anyway).
  for (size_t i = 0; i < L; i++) {
    const int32_t* m = a.meta + i * kMetaStride;
    if (a.rows[i] == kNoRecord) continue;
    if (m[kIdStart] < 0 || m[kIdEnd] < m[kIdStart] || static_cast<size_t>(m[kIdEnd]) > dataLen ||
        (m[kTKind] == kStringT && (m[kTStart] < 0 || m[kTEnd] < m[kTStart] || static_cast<size_t>(m[kTEnd]) > dataLen)))
      return fail(env, "formatRows: a span lies outside data");
  }
  napi_value result;
  napi_create_int64(env, format(a), &result);
  return result;
}

// numberTexts(values: Float64Array, out: Uint8Array) -> bytes: each value as JSON prints it, then ','.
// For the tests, which hold jsNumber to String(x) on many values.
napi_value numberTexts(napi_env env, napi_callback_info info) {
  static const char* const kUsage = "numberTexts(values: Float64Array, out: Uint8Array of 33 bytes per value)";
  napi_value argv[2];
  if (!napi_args::args(env, info, 2, argv, kUsage)) return nullptr;
  void *values, *out;
  size_t n, outLen;
  if (!napi_args::typedArray(env, argv[0], napi_float64_array, &values, &n) ||
      !napi_args::typedArray(env, argv[1], napi_uint8_array, &out, &outLen) || outLen < n * (kMaxNumber + 1))
    return fail(env, kUsage);
  char* p = static_cast<char*>(out);
  for (size_t i = 0; i < n; i++) {
    p = jsonNumber(p, static_cast<const double*>(values)[i]);
    *p++ = ',';
  }
  napi_value result;
  napi_create_int64(env, p - static_cast<char*>(out), &result);
  return result;
}

}  // namespace

void ndjson_format_register(napi_env env, napi_value exports) {
  napi_args::exportFunction(env, exports, "formatRows", formatRows);
  napi_args::exportFunction(env, exports, "numberTexts", numberTexts);
}
