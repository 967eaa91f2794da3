// N-API glue for the training arithmetic (gru_train.cc). Compiled for baseline x86-64 like addon.cc:
// nothing here runs AVX2 code unless the CPU check passed.
//
//   addon.createTrainer(desc) -> run
//     desc: src/kernel/layout.ts kernelDescriptor() (maxBatch = the rows the scratch is sized for)
//     plus steps (T) and weightFloats (WeightLayout.totalFloats), read by name
//     (src/train/native-backprop.ts trainDescriptor() builds it)
//   run(weights: Float32Array, input: Float32Array, target: Float32Array, h0: Float32Array | null,
//       burnIn: number, rows: number, grad: Float64Array) -> loss
// Errors are thrown with code ERR_KERNEL (src/train/native-backprop.ts turns them into KernelError).
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include "gru_train_addon.h"

#include <stdlib.h>

#include "gru_train.h"
#include "napi-args.h"

namespace {

using napi_args::cpuSupported;
using napi_args::readInt;
using napi_args::readObject;
using napi_args::typedArray;

struct Trainer {
  GruTrainState s;
};

napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, "ERR_KERNEL", message);
  return nullptr;
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
  if (!typedArray(env, argv[0], napi_float32_array, &w, &wl) || wl < s->weightFloats) return fail(env, "weights must be a Float32Array of the layout's length");
  if (napi_get_value_int32(env, argv[4], &burnIn) != napi_ok || burnIn < 0 || burnIn >= s->T) return fail(env, "burnIn must be in [0, T)");
  if (napi_get_value_int32(env, argv[5], &rows) != napi_ok || rows < 1 || rows > s->maxRows) return fail(env, "rows must be in [1, maxRows]");
  const size_t R = rows, T = s->T;
  if (!typedArray(env, argv[1], napi_float32_array, &in, &il) || il < T * R * s->I) return fail(env, "input must be a Float32Array of T*rows*I floats");
  if (!typedArray(env, argv[2], napi_float32_array, &tg, &tl) || tl < T * R * s->O) return fail(env, "target must be a Float32Array of T*rows*O floats");
  if (h0Type != napi_null && h0Type != napi_undefined &&
      (!typedArray(env, argv[3], napi_float32_array, &h0, &hl) || hl < static_cast<size_t>(s->L) * R * s->H))
    return fail(env, "h0 must be null or a Float32Array of L*rows*H floats");
  if (!typedArray(env, argv[6], napi_float64_array, &g, &gl) || gl < s->weightFloats) return fail(env, "grad must be a Float64Array of the layout's length");
  const double loss = gru_train_step(s, static_cast<const float*>(w), static_cast<const float*>(in), static_cast<const float*>(tg),
                                     static_cast<const float*>(h0), burnIn, rows, static_cast<double*>(g));
  napi_value out;
  napi_create_double(env, loss, &out);
  return out;
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
  return s->headRowStride >= H && s->headW + (s->O - 1) * s->headRowStride + H <= W && s->headB + s->O <= W;
}

// Fills s from the descriptor, by name; an error message or null. s->layers is allocated here.
const char* readDescriptor(napi_env env, napi_value desc, GruTrainState* s) {
  bool ok = true;
  napi_valuetype type;
  if (napi_typeof(env, desc, &type) != napi_ok || type != napi_object) return "desc must be a descriptor object";
  s->I = readInt(env, desc, "inputSize", &ok);
  s->H = readInt(env, desc, "hiddenSize", &ok);
  s->L = readInt(env, desc, "numLayers", &ok);
  s->O = readInt(env, desc, "outputSize", &ok);
  s->S = readInt(env, desc, "gateStride", &ok);
  s->T = readInt(env, desc, "steps", &ok);
  s->maxRows = readInt(env, desc, "maxBatch", &ok);
  s->weightFloats = readInt(env, desc, "weightFloats", &ok);
  napi_value v;
  bool resetAfter = false;
  if (napi_get_named_property(env, desc, "resetAfter", &v) != napi_ok || napi_get_value_bool(env, v, &resetAfter) != napi_ok) ok = false;
  s->resetAfter = resetAfter;
  napi_value gates = readObject(env, desc, "gates", &ok);
  if (gates) s->gateR = readInt(env, gates, "r", &ok), s->gateZ = readInt(env, gates, "z", &ok), s->gateN = readInt(env, gates, "n", &ok);
  napi_value head = readObject(env, desc, "head", &ok);
  if (head) s->headW = readInt(env, head, "w", &ok), s->headB = readInt(env, head, "b", &ok), s->headRowStride = readInt(env, head, "rowStride", &ok);
  if (!ok) return "desc is not a training descriptor (a field is missing, negative or not a whole number; training needs a head)";
  if (s->I < 1 || s->H < 1 || s->L < 1 || s->O < 1 || s->T < 1 || s->maxRows < 1) return "sizes must be positive";
  const size_t H = s->H;
  if (s->gateR != 0 || s->gateZ != H || s->gateN != 2 * H) return "gates must be r, z, n adjacent from column 0";
  napi_value layers = readObject(env, desc, "layers", &ok);
  uint32_t count = 0;
  if (!ok || napi_get_array_length(env, layers, &count) != napi_ok || count != static_cast<uint32_t>(s->L)) return "desc.layers must hold numLayers regions";
  s->layers = static_cast<GruTrainLayer*>(calloc(s->L, sizeof(GruTrainLayer)));
  if (!s->layers) return "out of memory";
  for (uint32_t l = 0; l < count; l++) {
    napi_value r;
    if (napi_get_element(env, layers, l, &r) != napi_ok) return "desc.layers is unreadable";
    s->layers[l] = GruTrainLayer{readInt(env, r, "inSize", &ok), static_cast<size_t>(readInt(env, r, "wx", &ok)),
                                 static_cast<size_t>(readInt(env, r, "wh", &ok)), static_cast<size_t>(readInt(env, r, "bx", &ok)),
                                 static_cast<size_t>(readInt(env, r, "bhn", &ok))};
  }
  if (!ok) return "desc.layers holds a region that is not whole numbers";
  if (!regionsFit(s)) return "the weight layout does not fit weightFloats";
  return nullptr;
}

napi_value createTrainer(napi_env env, napi_callback_info info) {
  if (!cpuSupported()) return fail(env, "this CPU lacks AVX2 or FMA");
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 1) return fail(env, "createTrainer(desc)");
  Trainer* tr = new Trainer();
  GruTrainState* s = &tr->s;
  *s = GruTrainState();
  const char* error = readDescriptor(env, argv[0], s);
  if (!error && !gru_train_alloc(s)) error = "out of memory for the training scratch";
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
