import { type NetSize, paramCount, paramSpecs } from './params.js';

/**
 * The average of k GRU(I, H, L) + Linear(H, O) forecasters is exactly one GRU(I, kH, L) + Linear(kH, O):
 * member m owns hidden units [mH, (m+1)H) of every gate of every layer.
 *   layer 0   weight_ih [3kH, I]:  member m's rows of gate g go to rows g·kH + mH + i (stacked)
 *   layer l>0 weight_ih [3kH, kH]: block-diagonal (a member's layer l sees only its own layer l-1)
 *   weight_hh [3kH, kH]:           block-diagonal, biases stacked like the rows
 *   head.weight [O, kH] = [W_1 | ... | W_k] / k,  head.bias = mean of the biases
 * Each member's state evolves exactly as it would alone (the off-diagonal zeros contribute exact 0s),
 * so the merged head is the members' mean forecast, up to float32 rounding of the sums. With k a power
 * of two the division by k is exact as well.
 */
export function mergeEnsemble(member: NetSize, members: Float32Array[]): { size: NetSize; params: Float32Array } {
  const k = members.length;
  const { inputSize: I, hiddenSize: H, numLayers: L, outputSize: O } = member;
  const KH = k * H;
  const size: NetSize = { inputSize: I, hiddenSize: KH, numLayers: L, outputSize: O };
  const out = new Float32Array(paramCount(size));
  const src = new Map(paramSpecs(member).map((s) => [s.name, s]));
  const dst = new Map(paramSpecs(size).map((s) => [s.name, s]));
  members.forEach((p, m) => {
    for (let l = 0; l < L; l++) {
      for (const kind of ['weight_ih', 'weight_hh', 'bias_ih', 'bias_hh']) {
        const name = `gru.${kind}_l${l}`;
        const s = src.get(name)!;
        const d = dst.get(name)!;
        const isBias = kind.startsWith('bias');
        const inCols = isBias ? 1 : s.shape[1];
        const outCols = isBias ? 1 : d.shape[1];
        // Columns of member m's inputs inside the merged matrix: all of them for layer 0's input
        // weights, member m's own block everywhere else.
        const colAt = isBias || (kind === 'weight_ih' && l === 0) ? 0 : m * H;
        for (let g = 0; g < 3; g++) {
          for (let i = 0; i < H; i++) {
            const from = s.offset + (g * H + i) * inCols;
            const to = d.offset + (g * KH + m * H + i) * outCols + colAt;
            out.set(p.subarray(from, from + inCols), to);
          }
        }
      }
    }
    const sw = src.get('head.weight')!;
    const dw = dst.get('head.weight')!;
    for (let o = 0; o < O; o++) for (let i = 0; i < H; i++) out[dw.offset + o * KH + m * H + i] = p[sw.offset + o * H + i] / k;
    const sb = src.get('head.bias')!;
    const db = dst.get('head.bias')!;
    for (let o = 0; o < O; o++) out[db.offset + o] += p[sb.offset + o] / k;
  });
  return { size, params: out };
}
