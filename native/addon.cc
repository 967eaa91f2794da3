// N-API glue for the native GRU kernel (plain node_api.h, context-aware, so piscina workers can
// each load it). Compiled for baseline x86-64: the CPU check runs before any AVX2 code can.
//
//   addon.cpuSupported: boolean
//   addon.createKernel(weights: Float32Array, arena: Float32Array, desc: Int32Array) -> step
//     desc = [I, H, L, O, resetAfter, gateStride, slotStride, maxBatch, headW, headB,
//             then per layer: inSize, wx, wh, bx, bhn]        (all from src/kernel/layout.ts)
//   step(count, slots: Int32Array, inputs: Float32Array, out: Float32Array)  binds the arrays, steps
//   step(count)                                                 steps with the arrays bound last
//
// Data pointers are taken once per bind (napi_get_typedarray_info moves a small on-heap typed
// array off the heap, after which its data no longer moves) and the arrays are held by references,
// so step(count) costs one N-API argument read. Errors are thrown with code ERR_OPTION; the JS
// wrapper (src/kernel/native-kernel.ts) turns them into OptionError.
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gru_kernel.h"

namespace {

struct Bound {
  napi_ref ref = nullptr;
  void* data = nullptr;
  size_t length = 0;
};

struct Kernel {
  GruKernelState k;
  GruLayerRegions* layers = nullptr;
  napi_ref weightsRef = nullptr, arenaRef = nullptr;
  Bound slots, inputs, out;
};

bool cpuSupported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, "ERR_OPTION", message);
  return nullptr;
}

bool typedArray(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, nullptr, nullptr) != napi_ok) return false;
  return type == want;
}

void release(napi_env env, Bound* b) {
  if (b->ref) napi_delete_reference(env, b->ref);
  *b = Bound();
}

void finalize(napi_env env, void* data, void*) {
  Kernel* kn = static_cast<Kernel*>(data);
  if (kn->weightsRef) napi_delete_reference(env, kn->weightsRef);
  if (kn->arenaRef) napi_delete_reference(env, kn->arenaRef);
  release(env, &kn->slots);
  release(env, &kn->inputs);
  release(env, &kn->out);
  gru_kernel_free(&kn->k);
  free(kn->layers);
  delete kn;
}

bool bind(napi_env env, napi_value v, napi_typedarray_type type, Bound* b) {
  Bound next;
  if (!typedArray(env, v, type, &next.data, &next.length)) return false;
  if (napi_create_reference(env, v, 1, &next.ref) != napi_ok) return false;
  release(env, b);
  *b = next;
  return true;
}

napi_value step(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  void* data;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, &data) != napi_ok) return nullptr;
  Kernel* kn = static_cast<Kernel*>(data);
  GruKernelState* k = &kn->k;
  int32_t count;
  if (argc < 1 || napi_get_value_int32(env, argv[0], &count) != napi_ok) return fail(env, "count must be an integer");
  if (argc >= 4) {
    if (!bind(env, argv[1], napi_int32_array, &kn->slots)) return fail(env, "slots must be an Int32Array");
    if (!bind(env, argv[2], napi_float32_array, &kn->inputs)) return fail(env, "inputs must be a Float32Array");
    if (!bind(env, argv[3], napi_float32_array, &kn->out)) return fail(env, "out must be a Float32Array");
  }
  if (count < 0 || count > k->maxBatch) return fail(env, "count exceeds the kernel's batch size");
  if (count == 0) return nullptr;
  if (!kn->slots.data) return fail(env, "step(count) before any step(count, slots, inputs, out)");
  if (kn->slots.length < static_cast<size_t>(count) || kn->inputs.length < static_cast<size_t>(count) * k->I ||
      kn->out.length < static_cast<size_t>(count) * k->O)
    return fail(env, "slots, inputs or out is shorter than count rows");
  const int32_t* slots = static_cast<const int32_t*>(kn->slots.data);
  // The one check JS never needed: out-of-range slots would write outside the arena here.
  for (int32_t b = 0; b < count; b++)
    if (slots[b] < 0 || static_cast<size_t>(slots[b]) >= k->totalSlots) return fail(env, "slot index outside the arena");
  gru_kernel_step(k, count, slots, static_cast<const float*>(kn->inputs.data), static_cast<float*>(kn->out.data));
  return nullptr;
}

// Every float the kernel may read must lie inside the weights: full vectors run up to 7 floats
// past a gate region's end (layout.ts pads regions to 16 floats, so they stay inside).
bool regionsFit(const GruKernelState* k, size_t wlen) {
  const size_t H = k->H, S = k->gateStride, ceil8 = (H + 7) / 8 * 8, rowEnd = 2 * H + ceil8;
  if (S < 3 * H || k->slotStride < static_cast<size_t>(k->L) * H) return false;
  for (int l = 0; l < k->L; l++) {
    const GruLayerRegions& r = k->layers[l];
    if (r.inSize != (l == 0 ? k->I : k->H)) return false;
    if (r.wx + (r.inSize - 1) * S + rowEnd > wlen || r.wh + (H - 1) * S + rowEnd > wlen) return false;
    if (r.bx + rowEnd > wlen || r.bhn + ceil8 > wlen) return false;
  }
  return k->O == 0 || (k->headW + static_cast<size_t>(k->O) * H <= wlen && k->headB + k->O <= wlen);
}

napi_value createKernel(napi_env env, napi_callback_info info) {
  if (!cpuSupported()) return fail(env, "this CPU lacks AVX2 or FMA");
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 3) return fail(env, "createKernel(weights, arena, desc)");
  void *wdata, *adata, *ddata;
  size_t wlen, alen, dlen;
  if (!typedArray(env, argv[0], napi_float32_array, &wdata, &wlen)) return fail(env, "weights must be a Float32Array");
  if (!typedArray(env, argv[1], napi_float32_array, &adata, &alen)) return fail(env, "arena must be a Float32Array");
  if (!typedArray(env, argv[2], napi_int32_array, &ddata, &dlen)) return fail(env, "desc must be an Int32Array");
  const int32_t* d = static_cast<const int32_t*>(ddata);
  if (dlen < 10 || d[2] < 1 || dlen != 10 + 5 * static_cast<size_t>(d[2])) return fail(env, "desc has the wrong length");
  for (size_t i = 0; i < dlen; i++)
    if (d[i] < 0) return fail(env, "desc has a negative entry");
  if (d[0] < 1 || d[1] < 1 || d[5] < 1 || d[6] < 1) return fail(env, "sizes and strides must be positive");

  Kernel* kn = new Kernel();
  GruKernelState* k = &kn->k;
  *k = GruKernelState();
  k->I = d[0], k->H = d[1], k->L = d[2], k->O = d[3], k->resetAfter = d[4] != 0;
  k->gateStride = d[5], k->slotStride = d[6], k->maxBatch = d[7], k->headW = d[8], k->headB = d[9];
  k->totalSlots = alen / k->slotStride;
  k->weights = static_cast<const float*>(wdata);
  k->arena = static_cast<float*>(adata);
  kn->layers = static_cast<GruLayerRegions*>(calloc(k->L, sizeof(GruLayerRegions)));
  k->layers = kn->layers;
  const char* error = nullptr;
  if (!kn->layers) {
    error = "out of memory";
  } else {
    for (int l = 0; l < k->L; l++) {
      const int32_t* e = d + 10 + 5 * l;
      k->layers[l] = GruLayerRegions{e[0], static_cast<size_t>(e[1]), static_cast<size_t>(e[2]),
                                     static_cast<size_t>(e[3]), static_cast<size_t>(e[4])};
    }
    if (!regionsFit(k, wlen)) error = "the weight layout does not fit the weights buffer";
    else if (!gru_kernel_alloc(k)) error = "out of memory for the kernel scratch";
  }
  napi_value fn;
  if (!error && (napi_create_function(env, "step", NAPI_AUTO_LENGTH, step, kn, &fn) != napi_ok ||
                 napi_create_reference(env, argv[0], 1, &kn->weightsRef) != napi_ok ||
                 napi_create_reference(env, argv[1], 1, &kn->arenaRef) != napi_ok ||
                 napi_add_finalizer(env, fn, kn, finalize, nullptr, nullptr) != napi_ok))
    error = "cannot create the step function";
  if (error) {
    finalize(env, kn, nullptr);
    return fail(env, error);
  }
  return fn;
}

}  // namespace

NAPI_MODULE_INIT() {
  napi_value supported, create;
  napi_get_boolean(env, cpuSupported(), &supported);
  napi_set_named_property(env, exports, "cpuSupported", supported);
  napi_create_function(env, "createKernel", NAPI_AUTO_LENGTH, createKernel, nullptr, &create);
  napi_set_named_property(env, exports, "createKernel", create);
  return exports;
}
