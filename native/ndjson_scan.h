// The NDJSON sample scanner's registration (ndjson_scan.cc): adds scanNdjson to the addon's exports.
#ifndef GRU_STREAM_NDJSON_SCAN_H
#define GRU_STREAM_NDJSON_SCAN_H
#include <node_api.h>

void ndjson_scan_register(napi_env env, napi_value exports);

#endif
