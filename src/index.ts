// Public API of gru-stream: re-exports only, one line per module. Add new modules' exports here.
export { ErrorCodes, GruStreamError, InputError, ModelError, OptionError, StateError, WorkerError, isGruStreamError } from './errors.js';
export type { ErrorCode, ErrorDetails } from './errors.js';
export { loadModel, modelFromBytes } from './model/load-model.js';
export type { LoadModelOptions } from './model/load-model.js';
export { GruModel } from './model/model.js';
export type { ForwardResult } from './model/model.js';
export type { ModelConfig, Transform, Variant } from './model/model-config.js';
export { parseSafetensors, writeSafetensors } from './model/safetensors.js';
export type { SafetensorsFile, Tensor } from './model/safetensors.js';
export { serve } from './serve/server.js';
export type { ServeHandle, ServeOptions } from './serve/server.js';
export type { ServeLimits } from './serve/options.js';
export type { AccuracySnapshot } from './serve/accuracy.js';
export type { SubscriberInfo } from './serve/subscriber-hub.js';
export { CLOSE_GOING_AWAY, CLOSE_SLOW_CONSUMER } from './serve/close-codes.js';
