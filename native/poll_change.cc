// pollChange(words, index, value, micros) -> true once words[index] != value, false after `micros`.
//   words: Int32Array (a SharedArrayBuffer's, written by another thread).
//
// The short wait of a thread that expects an answer within microseconds (src/pool/poll-change.ts).
// Between looks it calls sched_yield(): when another thread is queued for this CPU (the process
// feeding the pipeline, V8's GC helpers), it runs now instead of after the spin; when none is, the
// call returns at once and this is a spin. Baseline x86-64 code (no AVX): loaded whenever the addon is.
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include "poll_change.h"

#include <sched.h>

#include <chrono>
#include <cstdint>

#include "napi-args.h"

namespace {

napi_value pollChange(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!napi_args::args(env, info, 4, argv, "pollChange(words, index, value, micros)")) return nullptr;
  void* data = nullptr;
  size_t length = 0;
  int32_t index = -1, value = 0;
  double micros = -1;
  if (!napi_args::typedArray(env, argv[0], napi_int32_array, &data, &length) || napi_get_value_int32(env, argv[1], &index) != napi_ok ||
      napi_get_value_int32(env, argv[2], &value) != napi_ok || napi_get_value_double(env, argv[3], &micros) != napi_ok || index < 0 ||
      static_cast<size_t>(index) >= length || !(micros >= 0))
    return napi_args::fail(env, "pollChange(words: Int32Array, index within it, value, micros >= 0): bad arguments");
  const int32_t* word = static_cast<const int32_t*>(data) + index;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double, std::micro>(micros);
  bool changed = false;
  for (;;) {
    // Sequentially consistent like Atomics.load: what the other thread stored before this word is seen.
    if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != value) {
      changed = true;
      break;
    }
    if (std::chrono::steady_clock::now() >= until) break;
    sched_yield();
  }
  napi_value result;
  napi_get_boolean(env, changed, &result);
  return result;
}

}  // namespace

void poll_change_register(napi_env env, napi_value exports) { napi_args::exportFunction(env, exports, "pollChange", pollChange); }
