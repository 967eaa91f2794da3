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
