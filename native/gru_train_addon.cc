// N-API glue for the training arithmetic (gru_train.cc). Compiled for baseline x86-64 like addon.cc:
// nothing here runs AVX2 code unless the CPU check passed.
//
//   addon.createTrainer(desc: Int32Array) -> run
//     desc = [I, H, L, O, resetAfter, gateStride, T, maxRows, headW, headB, weightFloats,
//             then per layer: inSize, wx, wh, bx, bhn]               (all from src/kernel/layout.ts)
//   run(weights: Float32Array, input: Float32Array, target: Float32Array, h0: Float32Array | null,
//       burnIn: number, rows: number, grad: Float64Array) -> loss
// Errors are thrown with code ERR_OPTION (src/train/native-backprop.ts turns them into OptionError).
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include "gru_train_addon.h"

#include <stdlib.h>

#include "gru_train.h"

namespace {

struct Trainer {
  GruTrainState s;
};

napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, "ERR_OPTION", message);
  return nullptr;
}

bool floats(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, nullptr, nullptr) != napi_ok) return false;
  return type == want;
}

void finalize(napi_env, void* data, void*) {
  Trainer* tr = static_cast<Trainer*>(data);
  gru_train_free(&tr->s);
  free(tr->s.layers);
  delete tr;
}

napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  void* data;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return nullptr;
  if (argc < 7) return fail(env, "run(weights, input, target, h0, burnIn, rows, grad)");
  GruTrainState* s = &static_cast<Trainer*>(data)->s;
  void *w, *in, *tg, *h0 = nullptr, *g;
  size_t wl, il, tl, hl = 0, gl;
  int32_t burnIn, rows;
  napi_valuetype h0Type;
  napi_typeof(env, argv[3], &h0Type);
  if (!floats(env, argv[0], napi_float32_array, &w, &wl) || wl < s->weightFloats) return fail(env, "weights must be a Float32Array of the layout's length");
  if (napi_get_value_int32(env, argv[4], &burnIn) != napi_ok || burnIn < 0 || burnIn >= s->T) return fail(env, "burnIn must be in [0, T)");
  if (napi_get_value_int32(env, argv[5], &rows) != napi_ok || rows < 1 || rows > s->maxRows) return fail(env, "rows must be in [1, maxRows]");
  const size_t R = rows, T = s->T;
  if (!floats(env, argv[1], napi_float32_array, &in, &il) || il < T * R * s->I) return fail(env, "input must be a Float32Array of T*rows*I floats");
  if (!floats(env, argv[2], napi_float32_array, &tg, &tl) || tl < T * R * s->O) return fail(env, "target must be a Float32Array of T*rows*O floats");
  if (h0Type != napi_null && h0Type != napi_undefined &&
      (!floats(env, argv[3], napi_float32_array, &h0, &hl) || hl < static_cast<size_t>(s->L) * R * s->H))
    return fail(env, "h0 must be null or a Float32Array of L*rows*H floats");
  if (!floats(env, argv[6], napi_float64_array, &g, &gl) || gl < s->weightFloats) return fail(env, "grad must be a Float64Array of the layout's length");
  const double loss = gru_train_step(s, static_cast<const float*>(w), static_cast<const float*>(in), static_cast<const float*>(tg),
                                     static_cast<const float*>(h0), burnIn, rows, static_cast<double*>(g));
  napi_value out;
  napi_create_double(env, loss, &out);
  return out;
}

bool cpuSupported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// Every float the arithmetic reads lies inside the weights: whole rows of the packed regions, and
// up to 7 floats past the end of a W_h row (the next region follows it).
bool regionsFit(const GruTrainState* s) {
  const size_t H = s->H, S = s->S, W = s->weightFloats;
  if (S < 3 * H || S % 8 != 0) return false;
  for (int l = 0; l < s->L; l++) {
    const GruTrainLayer& r = s->layers[l];
    if (r.inSize != (l == 0 ? s->I : s->H)) return false;
    if (r.wx + r.inSize * S > W || r.wh + H * S + 8 > W || r.bx + S > W || r.bhn + H > W) return false;
  }
  return s->O > 0 && s->headW + static_cast<size_t>(s->O) * H <= W && s->headB + s->O <= W;
}

napi_value createTrainer(napi_env env, napi_callback_info info) {
  if (!cpuSupported()) return fail(env, "this CPU lacks AVX2 or FMA");
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* dd;
  size_t dl;
  if (argc < 1 || !floats(env, argv[0], napi_int32_array, &dd, &dl)) return fail(env, "createTrainer(desc: Int32Array)");
  const int32_t* d = static_cast<const int32_t*>(dd);
  if (dl < 11 || d[2] < 1 || dl != 11 + 5 * static_cast<size_t>(d[2])) return fail(env, "desc has the wrong length");
  for (size_t i = 0; i < dl; i++)
    if (d[i] < 0) return fail(env, "desc has a negative entry");
  if (d[0] < 1 || d[1] < 1 || d[3] < 1 || d[6] < 1 || d[7] < 1) return fail(env, "sizes must be positive (and the model needs a head)");
  Trainer* tr = new Trainer();
  GruTrainState* s = &tr->s;
  *s = GruTrainState();
  s->I = d[0], s->H = d[1], s->L = d[2], s->O = d[3], s->resetAfter = d[4] != 0, s->S = d[5];
  s->T = d[6], s->maxRows = d[7], s->headW = d[8], s->headB = d[9], s->weightFloats = d[10];
  s->layers = static_cast<GruTrainLayer*>(calloc(s->L, sizeof(GruTrainLayer)));
  const char* error = nullptr;
  if (!s->layers) {
    error = "out of memory";
  } else {
    for (int l = 0; l < s->L; l++) {
      const int32_t* e = d + 11 + 5 * l;
      s->layers[l] = GruTrainLayer{e[0], static_cast<size_t>(e[1]), static_cast<size_t>(e[2]), static_cast<size_t>(e[3]),
                                   static_cast<size_t>(e[4])};
    }
    if (!regionsFit(s)) error = "the weight layout does not fit its length";
    else if (!gru_train_alloc(s)) error = "out of memory for the training scratch";
  }
  napi_value fn;
  if (!error && (napi_create_function(env, "run", NAPI_AUTO_LENGTH, run, tr, &fn) != napi_ok ||
                 napi_add_finalizer(env, fn, tr, finalize, nullptr, nullptr) != napi_ok))
    error = "cannot create the run function";
  if (error) {
    finalize(env, tr, nullptr);
    return fail(env, error);
  }
  return fn;
}

}  // namespace

void gru_train_register(napi_env env, napi_value exports) {
  napi_value create;
  napi_create_function(env, "createTrainer", NAPI_AUTO_LENGTH, createTrainer, nullptr, &create);
  napi_set_named_property(env, exports, "createTrainer", create);
}
