{
  "targets": [
    {
      "target_name": "gru_stream_native",
      "sources": ["native/addon.cc", "native/gru_kernel.cc", "native/simd_avx2.cc", "native/simd_avx512.cc", "native/gru_train.cc", "native/gru_train_addon.cc", "native/ndjson_scan.cc", "native/ndjson_format.cc", "native/poll_change.cc"],
      "cflags": ["-O3"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
