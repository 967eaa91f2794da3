// A wait on a shared word that yields the CPU between looks (poll_change.cc): adds pollChange to the
// addon's exports.
#ifndef GRU_STREAM_POLL_CHANGE_H
#define GRU_STREAM_POLL_CHANGE_H
#include <node_api.h>

void poll_change_register(napi_env env, napi_value exports);

#endif
