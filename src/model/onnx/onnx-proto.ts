import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { ErrorCodes, ModelError } from '../../errors.js';
import { packagePath } from '../../util/package-root.js';

/**
 * The ONNX container, decoded by protobufjs from the official schema (assets/onnx/onnx.proto,
 * unchanged from the ONNX repository). Only the fields the loader reads are typed here; protobufjs
 * bounds every length by the bytes present, so decoding costs at most a few times the file's size.
 */

/** protobufjs gives int64 fields as Long objects (or numbers for small values). */
export type Int64 = number | { toNumber(): number; high: number; low: number };

export interface OnnxTensor {
  name: string;
  dims: Int64[];
  data_type: number;
  raw_data: Uint8Array;
  float_data: number[];
  int32_data: number[];
  int64_data: Int64[];
  double_data: number[];
  data_location: number;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f: number;
  i: Int64;
  s: Uint8Array;
  t: OnnxTensor | null;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
}

export interface OnnxNode {
  input: string[];
  output: string[];
  name: string;
  op_type: string;
  domain: string;
  attribute: OnnxAttribute[];
}

export interface OnnxValueInfo {
  name: string;
  type: { tensor_type?: { elem_type?: number; shape?: { dim: Array<{ dim_value?: Int64; dim_param?: string }> } } } | null;
}

export interface OnnxGraph {
  node: OnnxNode[];
  initializer: OnnxTensor[];
  sparse_initializer: unknown[];
  input: OnnxValueInfo[];
  output: OnnxValueInfo[];
}

export interface OnnxModel {
  ir_version: Int64;
  opset_import: Array<{ domain: string; version: Int64 }>;
  graph: OnnxGraph | null;
  metadata_props: Array<{ key: string; value: string }>;
  functions: unknown[];
}

/** TensorProto.DataType values the loader reads. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;
/** TensorProto.DataLocation.EXTERNAL: the weights live in another file. */
const EXTERNAL = 1;

let schema: protobuf.Root | undefined;

/** The parsed official schema, once per process (field names as in the .proto: keepCase). */
export function onnxSchema(): protobuf.Root {
  schema ??= protobuf.parse(readFileSync(packagePath('assets/onnx/onnx.proto'), 'utf8'), { keepCase: true }).root;
  return schema;
}

export function onnxFormatError(message: string, details: Record<string, unknown> = {}): ModelError {
  return new ModelError(ErrorCodes.ERR_MODEL_FORMAT, `invalid ONNX file: ${message}`, details);
}

/** Decode a ModelProto; any malformed byte is ERR_MODEL_FORMAT. */
export function decodeOnnx(bytes: Uint8Array): OnnxModel {
  const type = onnxSchema().lookupType('onnx.ModelProto');
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (err) {
    // protobufjs throws RangeError/Error for truncated fields, bad wire types and (on absurd nesting) the stack.
    throw onnxFormatError(`not a protobuf ModelProto (${(err as Error).message})`);
  }
  const model = message as unknown as OnnxModel;
  if (!model.graph) throw onnxFormatError('the model has no graph');
  return model;
}

export function int64(value: Int64): number {
  if (typeof value === 'number') return value;
  // Beyond 2^53 the number is meaningless for a size or index; the callers' range checks refuse it.
  if (value.high > 0x1fffff || value.high < -0x200000) return value.high < 0 ? -Infinity : Infinity;
  return value.toNumber();
}

/** Largest tensor the loader will materialise: far above any GRU, far below a hostile dims product. */
const MAX_ELEMENTS = 1 << 28;

/** Checked dims: whole, non-negative, and a product that fits what the tensor's data can hold. */
export function tensorDims(t: OnnxTensor): number[] {
  if (t.dims.length > 8) throw onnxFormatError(`tensor "${t.name}" has ${t.dims.length} dimensions`, { tensor: t.name });
  const dims = t.dims.map(int64);
  let elements = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw onnxFormatError(`tensor "${t.name}" has an invalid dimension ${d}`, { tensor: t.name });
    elements *= d;
    if (elements > MAX_ELEMENTS) throw onnxFormatError(`tensor "${t.name}" dims [${dims}] exceed ${MAX_ELEMENTS} elements`, { tensor: t.name });
  }
  return dims;
}

function elementCount(dims: number[]): number {
  return dims.reduce((a, d) => a * d, 1);
}

function checkStorage(t: OnnxTensor, n: number, have: number, what: string): void {
  if (t.data_location === EXTERNAL) throw onnxFormatError(`tensor "${t.name}" keeps its data in an external file, which gru-stream does not read (export with the weights inside the file)`, { tensor: t.name });
  if (have !== n) throw onnxFormatError(`tensor "${t.name}" dims need ${n} ${what} but the file holds ${have}`, { tensor: t.name });
}

/** A float tensor's values (FLOAT or DOUBLE), after checking their count against its dims. */
export function floatValues(t: OnnxTensor): { dims: number[]; data: Float32Array } {
  const dims = tensorDims(t);
  const n = elementCount(dims);
  const raw = t.raw_data.length > 0;
  if (t.data_type === DataType.FLOAT) {
    checkStorage(t, n, raw ? t.raw_data.length / 4 : t.float_data.length, 'floats');
    const data = new Float32Array(n);
    if (raw) {
      const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
    } else {
      data.set(t.float_data);
    }
    return { dims, data };
  }
  if (t.data_type === DataType.DOUBLE) {
    checkStorage(t, n, raw ? t.raw_data.length / 8 : t.double_data.length, 'doubles');
    const data = new Float32Array(n);
    const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
    for (let i = 0; i < n; i++) data[i] = raw ? view.getFloat64(8 * i, true) : t.double_data[i];
    return { dims, data };
  }
  throw onnxFormatError(`tensor "${t.name}" has data type ${t.data_type}; gru-stream reads float32 weights only`, { tensor: t.name, dtype: t.data_type });
}

/** An integer tensor's values (INT64 or INT32), as numbers (indices, axes, shapes). */
export function intValues(t: OnnxTensor): { dims: number[]; data: number[] } {
  const dims = tensorDims(t);
  const n = elementCount(dims);
  const raw = t.raw_data.length > 0;
  const view = new DataView(t.raw_data.buffer, t.raw_data.byteOffset, t.raw_data.byteLength);
  if (t.data_type === DataType.INT64) {
    checkStorage(t, n, raw ? t.raw_data.length / 8 : t.int64_data.length, 'int64 values');
    const data = new Array<number>(n);
    for (let i = 0; i < n; i++) data[i] = raw ? Number(view.getBigInt64(8 * i, true)) : int64(t.int64_data[i]);
    return { dims, data };
  }
  if (t.data_type === DataType.INT32) {
    checkStorage(t, n, raw ? t.raw_data.length / 4 : t.int32_data.length, 'int32 values');
    const data = new Array<number>(n);
    for (let i = 0; i < n; i++) data[i] = raw ? view.getInt32(4 * i, true) : t.int32_data[i];
    return { dims, data };
  }
  throw onnxFormatError(`tensor "${t.name}" has data type ${t.data_type} where integers were expected`, { tensor: t.name, dtype: t.data_type });
}
