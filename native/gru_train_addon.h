// Registers the training entry point (gru_train_addon.cc) on the addon's exports.
#ifndef GRU_STREAM_TRAIN_ADDON_H
#define GRU_STREAM_TRAIN_ADDON_H
#include <node_api.h>
void gru_train_register(napi_env env, napi_value exports);
#endif
