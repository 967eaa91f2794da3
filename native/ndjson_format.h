// The NDJSON forecast formatter's registration (ndjson_format.cc): adds formatRows and numberTexts.
#ifndef GRU_STREAM_NDJSON_FORMAT_H
#define GRU_STREAM_NDJSON_FORMAT_H
#include <node_api.h>

void ndjson_format_register(napi_env env, napi_value exports);

#endif
