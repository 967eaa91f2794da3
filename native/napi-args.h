// Argument readers shared by the N-API entry points (addon.cc, gru_train_addon.cc, the NDJSON
// scanner and formatter): argument counts, descriptor objects by name, typed arrays by element type.
#ifndef GRU_STREAM_NAPI_ARGS_H
#define GRU_STREAM_NAPI_ARGS_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

namespace napi_args {

// True when v is a typed array of element type `want`; its data and element count are returned.
inline bool typedArray(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, nullptr, nullptr) != napi_ok) return false;
  return type == want;
}

// obj[name] as a whole number in [0, 2^31); *ok = false (and 0) if it is not one.
inline int32_t readInt(napi_env env, napi_value obj, const char* name, bool* ok) {
  napi_value v;
  double d = -1;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_get_value_double(env, v, &d) != napi_ok ||
      !(d >= 0 && d < 2147483648.0) || d != static_cast<double>(static_cast<int32_t>(d))) {
    *ok = false;
    return 0;
  }
  return static_cast<int32_t>(d);
}

// obj[name] if it is an object; *ok = false (and null) otherwise.
inline napi_value readObject(napi_env env, napi_value obj, const char* name, bool* ok) {
  napi_value v = nullptr;
  napi_valuetype type = napi_undefined;
  if (napi_get_named_property(env, obj, name, &v) != napi_ok || napi_typeof(env, v, &type) != napi_ok || type != napi_object) {
    *ok = false;
    return nullptr;
  }
  return v;
}

// Throws an Error with code ERR_KERNEL (the JS side turns it into a KernelError); returns null for `return fail(...)`.
inline napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, "ERR_KERNEL", message);
  return nullptr;
}

// The call's first n arguments into argv; false, with an error naming `usage` thrown, when fewer
// were passed.
inline bool args(napi_env env, napi_callback_info info, size_t n, napi_value* argv, const char* usage) {
  size_t argc = n;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok && argc >= n) return true;
  fail(env, usage);
  return false;
}

// exports[name] = a native function.
inline void exportFunction(napi_env env, napi_value exports, const char* name, napi_callback fn) {
  napi_value f;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, nullptr, &f);
  napi_set_named_property(env, exports, name, f);
}

// The SIMD code paths need AVX2 and FMA; the addon is compiled for baseline x86-64 and asks first.
inline bool cpuSupported() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// The AVX-512 GEMM path (native/gemm_avx512.cc) needs avx512f; libgcc's check also asks the OS
// (XCR0) whether it saves the zmm and mask registers, so a guest without them reports false.
inline bool cpuSupportsAvx512() {
  __builtin_cpu_init();
  return cpuSupported() && __builtin_cpu_supports("avx512f");
}

}  // namespace napi_args
#endif
