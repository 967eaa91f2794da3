/**
 * A minimal hand-written ONNX model for a PyTorch-form GRU stack + Linear(H,1) head, so the sweep
 * can run onnxruntime on random weights without PyTorch. Same interface as the shared gen/Wn.onnx:
 * inputs x [1,S,I], h0 [L,S,H]; outputs y [S,1], hn [L,S,H]; S dynamic.
 *
 *   x ──GRU_0──► Y_h_0 [1,S,H] ──GRU_1──► Y_h_1 ... ──Squeeze(0)──► [S,H] ──Gemm(head)──► y [S,1]
 *   h0 ─Split(axis 0)─► h0_0, h0_1, ...            Concat(Y_h_*) ──► hn
 *
 * With sequence length 1, a layer's Y_h [1,S,H] is exactly the next layer's X [seq=1,S,H], so no
 * reshapes are needed between layers. ONNX GRU orders gates z, r, h (PyTorch: r, z, n) and, with
 * linear_before_reset=1, computes PyTorch's n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).
 *
 * Protobuf is written by hand (field numbers from onnx/onnx.proto); only what this graph needs.
 */

const VARINT = 0;
const LEN = 2;

function varint(n) {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // int64 two's complement, as protobuf encodes negatives
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

const key = (field, wire) => varint((field << 3) | wire);
const int = (field, n) => Buffer.concat([key(field, VARINT), varint(n)]);
const bytes = (field, buf) => Buffer.concat([key(field, LEN), varint(buf.length), buf]);
const str = (field, s) => bytes(field, Buffer.from(s, 'utf8'));
const msg = (field, parts) => bytes(field, Buffer.concat(parts));

const FLOAT = 1;
const INT64 = 7;
const ATTR_INT = 2;

/** TensorProto (graph field 5): dims=1, data_type=2, name=8, raw_data=9 (little-endian). */
function initializer(name, dims, data, type = FLOAT) {
  const raw = type === FLOAT ? Buffer.from(Float32Array.from(data).buffer) : Buffer.from(BigInt64Array.from(data.map(BigInt)).buffer);
  return msg(5, [...dims.map((d) => int(1, d)), int(2, type), str(8, name), bytes(9, raw)]);
}

/** AttributeProto: name=1, i=3, type=20. */
const intAttr = (name, i) => msg(5, [str(1, name), int(3, i), int(20, ATTR_INT)]);

/** NodeProto (graph field 1): input=1, output=2, name=3, op_type=4, attribute=5. */
function node(op, name, inputs, outputs, attrs = []) {
  return msg(1, [...inputs.map((s) => str(1, s)), ...outputs.map((s) => str(2, s)), str(3, name), str(4, op), ...attrs]);
}

/** ValueInfoProto (graph input 11 / output 12): name=1, type=2 → tensor_type=1 {elem_type=1, shape=2 {dim=1 {dim_value=1 | dim_param=2}}}. */
function valueInfo(field, name, dims) {
  const dimMsgs = dims.map((d) => msg(1, [typeof d === 'string' ? str(2, d) : int(1, d)]));
  return msg(field, [str(1, name), msg(2, [msg(1, [int(1, FLOAT), msg(2, dimMsgs)])])]);
}

/** PyTorch gate blocks r, z, n of a [3H][cols] matrix (or [3H] vector) → ONNX order z, r, h. */
function torchToOnnxGates(m, H, cols) {
  const out = new Float32Array(3 * H * cols);
  const block = H * cols;
  out.set(m.subarray(block, 2 * block), 0); // z
  out.set(m.subarray(0, block), block); // r
  out.set(m.subarray(2 * block, 3 * block), 2 * block); // n (ONNX "h")
  return out;
}

/**
 * @param gru { shape: {inputSize, hiddenSize, numLayers}, layers: [{weightIh, weightHh, biasIh, biasHh}], head: {weight, bias} }
 *   (the TorchGru form of src/model/torch-gru.ts)
 * @returns Uint8Array of a ModelProto (ir_version 8, opset 14)
 */
export function gruOnnxModel(gru) {
  const { inputSize: I, hiddenSize: H, numLayers: L } = gru.shape;
  const nodes = [];
  const inits = [];
  const layerH0 = L === 1 ? ['h0'] : Array.from({ length: L }, (_, l) => `h0_${l}`);
  if (L > 1) nodes.push(node('Split', 'split_h0', ['h0'], layerH0, [intAttr('axis', 0)]));
  const yh = [];
  gru.layers.forEach((layer, l) => {
    const inSize = l === 0 ? I : H;
    inits.push(initializer(`W${l}`, [1, 3 * H, inSize], torchToOnnxGates(layer.weightIh, H, inSize)));
    inits.push(initializer(`R${l}`, [1, 3 * H, H], torchToOnnxGates(layer.weightHh, H, H)));
    const b = new Float32Array(6 * H);
    b.set(torchToOnnxGates(layer.biasIh, H, 1), 0);
    b.set(torchToOnnxGates(layer.biasHh, H, 1), 3 * H);
    inits.push(initializer(`B${l}`, [1, 6 * H], b));
    const out = L === 1 ? 'hn' : `Y_h_${l}`;
    nodes.push(node('GRU', `gru_${l}`, [l === 0 ? 'x' : yh[l - 1], `W${l}`, `R${l}`, `B${l}`, '', layerH0[l]], ['', out], [intAttr('hidden_size', H), intAttr('linear_before_reset', 1)]));
    yh.push(out);
  });
  if (L > 1) nodes.push(node('Concat', 'concat_hn', yh, ['hn'], [intAttr('axis', 0)]));
  inits.push(initializer('squeeze_axes', [1], [0], INT64));
  inits.push(initializer('head_w', [1, H], gru.head.weight));
  inits.push(initializer('head_b', [1], gru.head.bias));
  nodes.push(node('Squeeze', 'squeeze_top', [yh[L - 1], 'squeeze_axes'], ['top']));
  nodes.push(node('Gemm', 'head', ['top', 'head_w', 'head_b'], ['y'], [intAttr('transB', 1)]));
  const graph = msg(7, [
    ...nodes,
    str(2, 'gru_stream_bench'),
    ...inits,
    valueInfo(11, 'x', [1, 'S', I]),
    valueInfo(11, 'h0', [L, 'S', H]),
    valueInfo(12, 'y', ['S', 1]),
    valueInfo(12, 'hn', [L, 'S', H]),
  ]);
  return new Uint8Array(Buffer.concat([int(1, 8), str(2, 'gru-stream bench/lib/onnx-gru.mjs'), graph, msg(8, [str(1, ''), int(2, 14)])]));
}
