// N-API glue for the native GRU kernel (plain node_api.h, context-aware, so piscina workers can
// each load it). Compiled for baseline x86-64: the CPU check runs before any AVX2 code can.
//
//   addon.cpuSupported: boolean
//   addon.isas: string[]   the GEMM paths this CPU can run, widest first ("avx512", "avx2")
//   addon.createKernel(weights: Float32Array, arena: Float32Array, desc: KernelDescriptor, isa?) -> step
//     desc is the object src/kernel/layout.ts kernelDescriptor() builds; its fields are read by name
//     (readDescriptor below), so the two sides share names, not an order. isa is one of addon.isas
//     (default: the first); step.isa says which path the kernel runs.
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
#include "gru_train_addon.h"
#include "ndjson_format.h"
#include "ndjson_scan.h"
#include "poll_change.h"
#include "napi-args.h"

namespace {

using napi_args::cpuSupported;
using napi_args::cpuSupportsAvx512;
using napi_args::readInt;
using napi_args::readObject;
using napi_args::typedArray;

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

napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, "ERR_OPTION", message);
  return nullptr;
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

// Every float the kernel may read must lie inside the weights: full vectors run up to 15 floats
// past a gate region's end (layout.ts pads regions to 16 floats, so they stay inside).
bool regionsFit(const GruKernelState* k, size_t wlen) {
  const size_t H = k->H, S = k->gateStride, ceil16 = (H + 15) / 16 * 16, rowEnd = k->gateN + ceil16;
  // The kernel computes r and z in one product, so it needs layout.ts's r, z, n order, H apart.
  if (k->gateR != 0 || k->gateZ != H || k->gateN != 2 * H || S < 3 * H) return false;
  if (k->layerStride < H || k->slotStride < static_cast<size_t>(k->L) * k->layerStride) return false;
  for (int l = 0; l < k->L; l++) {
    const GruLayerRegions& r = k->layers[l];
    if (r.inSize != (l == 0 ? k->I : k->H)) return false;
    if (r.wx + (r.inSize - 1) * S + rowEnd > wlen || r.wh + (H - 1) * S + rowEnd > wlen) return false;
    if (r.bx + rowEnd > wlen || r.bhn + ceil16 > wlen) return false;
  }
  return k->O == 0 || (k->headRowStride >= H && k->headW + static_cast<size_t>(k->O - 1) * k->headRowStride + H <= wlen &&
                       k->headB + k->O <= wlen);
}

// Fills k's shape, strides and regions from a KernelDescriptor (layout.ts), by name. Returns an
// error message, or null. kn->layers is allocated here (freed by finalize).
const char* readDescriptor(napi_env env, napi_value desc, Kernel* kn) {
  GruKernelState* k = &kn->k;
  bool ok = true;
  napi_valuetype type;
  if (napi_typeof(env, desc, &type) != napi_ok || type != napi_object) return "desc must be a KernelDescriptor object";
  k->I = readInt(env, desc, "inputSize", &ok);
  k->H = readInt(env, desc, "hiddenSize", &ok);
  k->L = readInt(env, desc, "numLayers", &ok);
  k->O = readInt(env, desc, "outputSize", &ok);
  k->gateStride = readInt(env, desc, "gateStride", &ok);
  k->slotStride = readInt(env, desc, "slotStride", &ok);
  k->layerStride = readInt(env, desc, "layerStride", &ok);
  k->maxBatch = readInt(env, desc, "maxBatch", &ok);
  napi_value v;
  bool resetAfter = false;
  if (napi_get_named_property(env, desc, "resetAfter", &v) != napi_ok || napi_get_value_bool(env, v, &resetAfter) != napi_ok) ok = false;
  k->resetAfter = resetAfter;
  napi_value gates = readObject(env, desc, "gates", &ok);
  if (gates) {
    k->gateR = readInt(env, gates, "r", &ok);
    k->gateZ = readInt(env, gates, "z", &ok);
    k->gateN = readInt(env, gates, "n", &ok);
  }
  if (!ok) return "desc is not a KernelDescriptor (a field is missing, negative or not a whole number)";
  if (k->I < 1 || k->H < 1 || k->L < 1 || k->gateStride < 1 || k->slotStride < 1) return "sizes and strides must be positive";
  napi_value head = nullptr;
  if (napi_get_named_property(env, desc, "head", &head) != napi_ok || napi_typeof(env, head, &type) != napi_ok) return "desc.head is unreadable";
  if (type == napi_object) {
    k->headW = readInt(env, head, "w", &ok);
    k->headB = readInt(env, head, "b", &ok);
    k->headRowStride = readInt(env, head, "rowStride", &ok);
  } else if (type != napi_null || k->O != 0) {
    return "desc.head must be an object when outputSize > 0, else null";
  }
  napi_value layers = readObject(env, desc, "layers", &ok);
  uint32_t count = 0;
  if (!ok || napi_get_array_length(env, layers, &count) != napi_ok || count != static_cast<uint32_t>(k->L)) {
    return "desc.layers must hold numLayers regions";
  }
  kn->layers = static_cast<GruLayerRegions*>(calloc(k->L, sizeof(GruLayerRegions)));
  k->layers = kn->layers;
  if (!kn->layers) return "out of memory";
  for (uint32_t l = 0; l < count; l++) {
    napi_value r;
    if (napi_get_element(env, layers, l, &r) != napi_ok) return "desc.layers is unreadable";
    k->layers[l] = GruLayerRegions{readInt(env, r, "inSize", &ok), static_cast<size_t>(readInt(env, r, "wx", &ok)),
                                   static_cast<size_t>(readInt(env, r, "wh", &ok)), static_cast<size_t>(readInt(env, r, "bx", &ok)),
                                   static_cast<size_t>(readInt(env, r, "bhn", &ok))};
  }
  if (!ok) return "desc.layers holds a region that is not whole numbers";
  return nullptr;
}

// The GEMM path for createKernel's optional isa argument: the widest the CPU has when it is absent.
const char* pickSimd(napi_env env, size_t argc, napi_value* argv, const GruSimd** simd) {
  *simd = cpuSupportsAvx512() ? &gru_simd_avx512 : &gru_simd_avx2;
  napi_valuetype type = napi_undefined;
  if (argc < 4 || napi_typeof(env, argv[3], &type) != napi_ok || type == napi_undefined) return nullptr;
  char isa[16];
  size_t len = 0;
  if (type != napi_string || napi_get_value_string_utf8(env, argv[3], isa, sizeof isa, &len) != napi_ok) return "isa must be a string";
  if (strcmp(isa, "avx2") == 0) *simd = &gru_simd_avx2;
  else if (strcmp(isa, "avx512") != 0) return "isa must be avx2 or avx512";
  else if (!cpuSupportsAvx512()) return "this CPU lacks AVX-512 (avx512f)";
  return nullptr;
}

napi_value createKernel(napi_env env, napi_callback_info info) {
  if (!cpuSupported()) return fail(env, "this CPU lacks AVX2 or FMA");
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < 3) return fail(env, "createKernel(weights, arena, desc, isa?)");
  const GruSimd* simd;
  if (const char* bad = pickSimd(env, argc, argv, &simd)) return fail(env, bad);
  void *wdata, *adata;
  size_t wlen, alen;
  if (!typedArray(env, argv[0], napi_float32_array, &wdata, &wlen)) return fail(env, "weights must be a Float32Array");
  if (!typedArray(env, argv[1], napi_float32_array, &adata, &alen)) return fail(env, "arena must be a Float32Array");

  Kernel* kn = new Kernel();
  GruKernelState* k = &kn->k;
  *k = GruKernelState();
  k->weights = static_cast<const float*>(wdata);
  k->arena = static_cast<float*>(adata);
  k->simd = simd;
  const char* error = readDescriptor(env, argv[2], kn);
  if (!error) {
    k->totalSlots = alen / k->slotStride;
    if (!regionsFit(k, wlen)) error = "the weight layout does not fit the weights buffer";
    else if (!gru_kernel_alloc(k)) error = "out of memory for the kernel scratch";
  }
  napi_value fn, isa;
  if (!error && (napi_create_function(env, "step", NAPI_AUTO_LENGTH, step, kn, &fn) != napi_ok ||
                 napi_create_string_utf8(env, simd->name, NAPI_AUTO_LENGTH, &isa) != napi_ok ||
                 napi_set_named_property(env, fn, "isa", isa) != napi_ok ||
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
  napi_value isas, name;
  napi_create_array(env, &isas);
  uint32_t n = 0;
  if (cpuSupportsAvx512() && napi_create_string_utf8(env, "avx512", NAPI_AUTO_LENGTH, &name) == napi_ok) napi_set_element(env, isas, n++, name);
  if (cpuSupported() && napi_create_string_utf8(env, "avx2", NAPI_AUTO_LENGTH, &name) == napi_ok) napi_set_element(env, isas, n++, name);
  napi_set_named_property(env, exports, "isas", isas);
  napi_create_function(env, "createKernel", NAPI_AUTO_LENGTH, createKernel, nullptr, &create);
  napi_set_named_property(env, exports, "createKernel", create);
  gru_train_register(env, exports);
  ndjson_scan_register(env, exports);
  ndjson_format_register(env, exports);
  poll_change_register(env, exports);
  return exports;
}
