// Backpropagation through time for the GRU stack + head, AVX2/FMA, float32 products with float64
// gradient sums. The math is src/train/backprop.ts's (read that first: same names, same order of
// passes); this file only reorganises it into matrix products over the batch rows:
//
//   forward, per step t and layer l:   gx = bx + X Wx,  gh = Hprev Wh,  then one activation pass
//   backward, per t (reverse) and l:   one pass for the gate gradients dgx, dgh (kept for every t),
//                                      dHprev = dh * z + dgh Wh^T,  dX (to the layer below) = dgx Wx^T
//   after the sweep, per layer:        dWx = X^T dgx, dWh = Hprev^T dgh, over all T*rows rows at once
//
// Scratch map (floats, one calloc, every region zero at start; tails are written with masks, so
// padding columns stay zero and never feed a product):
//   hs     [L][T+1][rows][Hp]  states: slot 0 = h0, slot t+1 = after step t
//   r z n q [L][T][rows][Hp]   gates; q = W_hn h + b_hn (reset-after) or r * h (reset-before)
//   dgx dgh [L][T][rows][S]    gate gradients w.r.t. the input and state products (r | z | n)
//   y dy   [T][rows][O]        head outputs and d loss / d y (zero before burnIn)
//   gx gh  [maxRows][Sp]       this step's products
//   dh dx drh [maxRows][Hp], dhNext [L][maxRows][Hp]
//   whT wxT [L][3H][Hp]        transposed weights for the backward products (wxT unused for l = 0)
// Row strides: Hp = H rounded up to 8, S = the packed gate stride (a multiple of 16), Sp = S + 8.
#pragma GCC target("avx2,fma")

#include "gru_train.h"

#include <stdlib.h>
#include <string.h>

#include "vmath.h"

namespace {

inline size_t up8(size_t n) { return (n + 7) / 8 * 8; }

inline __m256i tailMask(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }

// Loads and stores of 8 lanes, masked to `valid` lanes when fewer than 8 remain.
struct Lanes {
  int valid;
  __m256i mask;
  explicit Lanes(int v) : valid(v), mask(tailMask(v)) {}
  __m256 load(const float* p) const { return valid >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask); }
  void store(float* p, __m256 v) const {
    if (valid >= 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, mask, v);
  }
};

// C[m][0..8NV) += sum_k A[m][k] B[k][0..8NV), MR rows of C at once.
template <int MR, int NV>
void nnBlock(float* C, size_t ldc, const float* A, size_t lda, const float* B, size_t ldb, int K) {
  __m256 acc[MR][NV];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = _mm256_loadu_ps(C + r * ldc + 8 * v);
  for (int k = 0; k < K; k++) {
    __m256 wv[NV];
    for (int v = 0; v < NV; v++) wv[v] = _mm256_loadu_ps(B + k * ldb + 8 * v);
    for (int r = 0; r < MR; r++) {
      const __m256 a = _mm256_broadcast_ss(A + r * lda + k);
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(a, wv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) _mm256_storeu_ps(C + r * ldc + 8 * v, acc[r][v]);
}

typedef void (*NnFn)(float*, size_t, const float*, size_t, const float*, size_t, int);
const NnFn kNn[5][4] = {{nullptr},
                        {nullptr, nnBlock<1, 1>, nnBlock<1, 2>, nnBlock<1, 3>},
                        {nullptr, nnBlock<2, 1>, nnBlock<2, 2>, nnBlock<2, 3>},
                        {nullptr, nnBlock<3, 1>, nnBlock<3, 2>, nnBlock<3, 3>},
                        {nullptr, nnBlock<4, 1>, nnBlock<4, 2>, nnBlock<4, 3>}};

// Column panels of at most 3 vectors, as even as possible (4 vectors = 2 + 2, not 3 + 1: a one-vector
// panel does one FMA per broadcast).
inline int panelWidth(int vecs, int panels, int p, int v0) { return (vecs - v0 + (panels - p) - 1) / (panels - p); }

// C (M x 8*vecs, stride ldc) += A (M x K, stride lda) B (K x 8*vecs, stride ldb).
void gemmNN(float* C, size_t ldc, const float* A, size_t lda, const float* B, size_t ldb, int M, int K, int vecs) {
  const int panels = (vecs + 2) / 3;
  for (int p = 0, v0 = 0; p < panels; p++) {
    const int nv = panelWidth(vecs, panels, p, v0);
    for (int m = 0; m < M; m += 4) {
      const int mr = M - m < 4 ? M - m : 4;
      kNn[mr][nv](C + m * ldc + 8 * v0, ldc, A + m * lda, lda, B + 8 * v0, ldb, K);
    }
    v0 += nv;
  }
}

// Rows of A^T B summed in float32 before each float64 flush: a chunk of B (64 rows of a 96-float
// gate row) stays in L1 while every k block reads it, and float32 partial sums never run longer
// than 64 terms (the gradient sums over T*rows terms are float64).
constexpr int kChunk = 64;

// C[k][0..8NV) += sum_m A[m][k] B[m][0..8NV) for MR consecutive k, C in float64.
template <int MR, int NV>
void tnBlock(double* C, size_t ldc, const float* A, size_t lda, const float* B, size_t ldb, int M) {
  __m256 acc[MR][NV];
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) acc[r][v] = _mm256_setzero_ps();
  for (int m = 0; m < M; m++) {
    __m256 bv[NV];
    for (int v = 0; v < NV; v++) bv[v] = _mm256_loadu_ps(B + m * ldb + 8 * v);
    for (int r = 0; r < MR; r++) {
      const __m256 a = _mm256_broadcast_ss(A + m * lda + r);
      for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(a, bv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < MR; r++)
    for (int v = 0; v < NV; v++) {
      double* c = C + r * ldc + 8 * v;
      _mm256_storeu_pd(c, _mm256_add_pd(_mm256_loadu_pd(c), _mm256_cvtps_pd(_mm256_castps256_ps128(acc[r][v]))));
      _mm256_storeu_pd(c + 4, _mm256_add_pd(_mm256_loadu_pd(c + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(acc[r][v], 1))));
    }
}

typedef void (*TnFn)(double*, size_t, const float*, size_t, const float*, size_t, int);
const TnFn kTn[5][4] = {{nullptr},
                        {nullptr, tnBlock<1, 1>, tnBlock<1, 2>, tnBlock<1, 3>},
                        {nullptr, tnBlock<2, 1>, tnBlock<2, 2>, tnBlock<2, 3>},
                        {nullptr, tnBlock<3, 1>, tnBlock<3, 2>, tnBlock<3, 3>},
                        {nullptr, tnBlock<4, 1>, tnBlock<4, 2>, tnBlock<4, 3>}};

// C (K x 8*vecs, float64, stride ldc) += A^T (A: M x K, stride lda) B (M x 8*vecs, stride ldb).
// lda = 0 with K = 1 and A -> 1.0f sums B's rows (the bias gradients).
void gemmTN(double* C, size_t ldc, const float* A, size_t lda, const float* B, size_t ldb, int M, int K, int vecs) {
  const int panels = (vecs + 2) / 3;
  for (int m0 = 0; m0 < M; m0 += kChunk) {
    const int mc = M - m0 < kChunk ? M - m0 : kChunk;
    for (int k = 0; k < K; k += 4) {
      const int kr = K - k < 4 ? K - k : 4;
      for (int p = 0, v0 = 0; p < panels; p++) {
        const int nv = panelWidth(vecs, panels, p, v0);
        kTn[kr][nv](C + k * ldc + 8 * v0, ldc, A + m0 * lda + k, lda, B + m0 * ldb + 8 * v0, ldb, mc);
        v0 += nv;
      }
    }
  }
}

inline int vecsOf(size_t n) { return static_cast<int>((n + 7) / 8); }

}  // namespace

bool gru_train_alloc(GruTrainState* s) {
  const size_t H = s->H, L = s->L, T = s->T, B = s->maxRows, O = s->O, S = s->S;
  s->Hp = up8(H);
  s->Sp = S + 8;
  const size_t Hp = s->Hp, Sp = s->Sp;
  const size_t sizes[] = {
      L * (T + 1) * B * Hp,                        // hs
      L * T * B * Hp, L * T * B * Hp, L * T * B * Hp, L * T * B * Hp,  // r z n q
      L * T * B * S + 8, L * T * B * S + 8,        // dgx dgh (+ one vector: products read past the last row)
      T * B * O + 8, T * B * O + 8,                // y dy
      B * Sp, B * Sp,                              // gx gh
      B * Hp, L * B * Hp, B * Hp, B * Hp,          // dh dhNext dx drh
      L * 3 * H * Hp + 8, L * 3 * H * Hp + 8,      // whT wxT
  };
  size_t total = 0;
  for (size_t n : sizes) total += up8(n);
  s->block = static_cast<float*>(calloc(total, sizeof(float)));
  size_t cmax = H > O ? H : O;
  if (static_cast<size_t>(s->I) > cmax) cmax = s->I;
  s->ctmp = static_cast<double*>(calloc(cmax * Sp, sizeof(double)));
  if (!s->block || !s->ctmp) {
    gru_train_free(s);
    return false;
  }
  float** slots[] = {&s->hs, &s->r, &s->z, &s->n, &s->q, &s->dgx, &s->dgh, &s->y, &s->dy,
                     &s->gx, &s->gh, &s->dh, &s->dhNext, &s->dx, &s->drh, &s->whT, &s->wxT};
  float* at = s->block;
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    *slots[i] = at;
    at += up8(sizes[i]);
  }
  return true;
}

void gru_train_free(GruTrainState* s) {
  free(s->block);
  free(s->ctmp);
  s->block = nullptr;
  s->ctmp = nullptr;
}

double gru_train_step(GruTrainState* s, const float* w, const float* input, const float* target, const float* h0,
                      int burnIn, int rows, double* grad) {
  const int H = s->H, L = s->L, T = s->T, O = s->O, I = s->I;
  const size_t S = s->S, Sp = s->Sp, Hp = s->Hp, R = rows;
  const bool after = s->resetAfter;
  const int hv = vecsOf(H);
  // Gate columns (the addon accepts only r | z | n adjacent from 0: the r and z products share one pass).
  const size_t gr = s->gateR, gz = s->gateZ, gn = s->gateN, hrs = s->headRowStride;
  // Region accessors for this call's row count (rows of one step are contiguous, steps follow).
  auto HS = [&](int l, int t) { return s->hs + (static_cast<size_t>(l) * (T + 1) + t) * R * Hp; };
  auto G = [&](float* base, int l, int t) { return base + (static_cast<size_t>(l) * T + t) * R * Hp; };
  auto DG = [&](float* base, int l, int t) { return base + (static_cast<size_t>(l) * T + t) * R * S; };

  // Transposed weights for the backward products.
  for (int l = 0; l < L; l++) {
    const GruTrainLayer& at = s->layers[l];
    float* whT = s->whT + static_cast<size_t>(l) * 3 * H * Hp;
    float* wxT = s->wxT + static_cast<size_t>(l) * 3 * H * Hp;
    for (int c = 0; c < 3 * H; c++)
      for (int k = 0; k < H; k++) {
        whT[c * Hp + k] = w[at.wh + k * S + c];
        if (l > 0) wxT[c * Hp + k] = w[at.wx + k * S + c];
      }
  }
  for (int l = 0; l < L; l++) {
    float* h = HS(l, 0);
    for (size_t b = 0; b < R; b++)
      for (int k = 0; k < H; k++) h[b * Hp + k] = h0 ? h0[(l * R + b) * H + k] : 0.0f;
  }

  // ── forward ──
  const float* hw = w + s->headW;
  const float* hb = w + s->headB;
  const double scale = 2.0 / (static_cast<double>(T - burnIn) * R * O);
  double sum = 0;
  const __m256 one = _mm256_set1_ps(1.0f);
  for (int t = 0; t < T; t++) {
    for (int l = 0; l < L; l++) {
      const GruTrainLayer& at = s->layers[l];
      const float* X = l == 0 ? input + static_cast<size_t>(t) * R * I : HS(l - 1, t + 1);
      const size_t ldx = l == 0 ? I : Hp;
      const float* hp = HS(l, t);
      float* ho = HS(l, t + 1);
      float *r = G(s->r, l, t), *z = G(s->z, l, t), *n = G(s->n, l, t), *q = G(s->q, l, t);
      for (size_t b = 0; b < R; b++) {
        memcpy(s->gx + b * Sp, w + at.bx, S * sizeof(float));
        memset(s->gh + b * Sp, 0, Sp * sizeof(float));
      }
      gemmNN(s->gx, Sp, X, ldx, w + at.wx, S, rows, at.inSize, static_cast<int>(S / 8));
      gemmNN(s->gh, Sp, hp, Hp, w + at.wh, S, rows, H, after ? static_cast<int>(S / 8) : vecsOf(gn));
      for (size_t b = 0; b < R; b++) {
        const float *gx = s->gx + b * Sp, *gh = s->gh + b * Sp;
        for (int j = 0; j < H; j += 8) {
          const Lanes m(H - j);
          const size_t e = b * Hp + j;
          const __m256 rv = v_sigmoid(_mm256_add_ps(m.load(gx + gr + j), m.load(gh + gr + j)));
          const __m256 zv = v_sigmoid(_mm256_add_ps(m.load(gx + gz + j), m.load(gh + gz + j)));
          m.store(r + e, rv);
          m.store(z + e, zv);
          if (after) {
            const __m256 qv = _mm256_add_ps(m.load(gh + gn + j), m.load(w + at.bhn + j));
            const __m256 nv = v_tanh(_mm256_fmadd_ps(rv, qv, m.load(gx + gn + j)));
            m.store(q + e, qv);
            m.store(n + e, nv);
            m.store(ho + e, _mm256_fmadd_ps(zv, _mm256_sub_ps(m.load(hp + e), nv), nv));
          } else {
            m.store(q + e, _mm256_mul_ps(rv, m.load(hp + e)));
          }
        }
      }
      if (!after) {
        // n = tanh(gx_n + W_hn (r * h)): the state product waits for r.
        for (size_t b = 0; b < R; b++) memset(s->gh + b * Sp + gn, 0, Hp * sizeof(float));
        gemmNN(s->gh + gn, Sp, q, Hp, w + at.wh + gn, S, rows, H, hv);
        for (size_t b = 0; b < R; b++) {
          const float *gx = s->gx + b * Sp, *gh = s->gh + b * Sp;
          for (int j = 0; j < H; j += 8) {
            const Lanes m(H - j);
            const size_t e = b * Hp + j;
            const __m256 nv = v_tanh(_mm256_add_ps(m.load(gx + gn + j), m.load(gh + gn + j)));
            m.store(n + e, nv);
            m.store(ho + e, _mm256_fmadd_ps(m.load(z + e), _mm256_sub_ps(m.load(hp + e), nv), nv));
          }
        }
      }
    }
    const float* top = HS(L - 1, t + 1);
    for (size_t b = 0; b < R; b++) {
      for (int o = 0; o < O; o++) {
        __m256 v = _mm256_setzero_ps();
        for (int k = 0; k < H; k += 8) {
          const Lanes m(H - k);
          v = _mm256_fmadd_ps(m.load(top + b * Hp + k), m.load(hw + o * hrs + k), v);
        }
        const __m128 h4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        const __m128 h2 = _mm_add_ps(h4, _mm_movehl_ps(h4, h4));
        const float acc = hb[o] + _mm_cvtss_f32(_mm_add_ss(h2, _mm_movehdup_ps(h2)));
        const size_t i = (t * R + b) * O + o;
        s->y[i] = acc;
        if (t >= burnIn) {
          const double e = static_cast<double>(acc) - target[i];
          sum += e * e;
          s->dy[i] = static_cast<float>(scale * e);
        } else {
          s->dy[i] = 0.0f;
        }
      }
    }
  }

  // ── backward through time ──
  memset(s->dhNext, 0, static_cast<size_t>(L) * R * Hp * sizeof(float));
  for (int t = T - 1; t >= 0; t--) {
    for (int l = L - 1; l >= 0; l--) {
      const float* hp = HS(l, t);
      const float *r = G(s->r, l, t), *z = G(s->z, l, t), *n = G(s->n, l, t), *q = G(s->q, l, t);
      float *dgx = DG(s->dgx, l, t), *dgh = DG(s->dgh, l, t);
      float* dhNext = s->dhNext + static_cast<size_t>(l) * R * Hp;
      const float* whT = s->whT + static_cast<size_t>(l) * 3 * H * Hp;
      // dh = what reaches h_t from above: the head (top layer, t >= burnIn) or the layer above.
      if (l == L - 1) {
        memset(s->dh, 0, R * Hp * sizeof(float));
        if (t >= burnIn) gemmNN(s->dh, Hp, s->dy + t * R * O, O, hw, hrs, rows, O, hv);
      } else {
        memcpy(s->dh, s->dx, R * Hp * sizeof(float));
      }
      for (size_t b = 0; b < R; b++) {
        float *gx = dgx + b * S, *gh = dgh + b * S;
        for (int j = 0; j < H; j += 8) {
          const Lanes m(H - j);
          const size_t e = b * Hp + j;
          const __m256 dh = _mm256_add_ps(m.load(s->dh + e), m.load(dhNext + e));
          const __m256 rv = m.load(r + e), zv = m.load(z + e), nv = m.load(n + e);
          const __m256 omz = _mm256_sub_ps(one, zv);
          const __m256 dan = _mm256_mul_ps(_mm256_mul_ps(dh, omz), _mm256_fnmadd_ps(nv, nv, one));
          const __m256 daz = _mm256_mul_ps(_mm256_mul_ps(dh, _mm256_sub_ps(m.load(hp + e), nv)), _mm256_mul_ps(zv, omz));
          m.store(gx + gz + j, daz);
          m.store(gh + gz + j, daz);
          m.store(gx + gn + j, dan);
          m.store(dhNext + e, _mm256_mul_ps(dh, zv));
          if (after) {
            const __m256 qv = m.load(q + e);
            const __m256 dar = _mm256_mul_ps(_mm256_mul_ps(dan, qv), _mm256_mul_ps(rv, _mm256_sub_ps(one, rv)));
            m.store(gx + gr + j, dar);
            m.store(gh + gr + j, dar);
            m.store(gh + gn + j, _mm256_mul_ps(dan, rv));
          }
        }
      }
      if (!after) {
        // d(r*h) = W_hn^T dan: reaches r (through h) and h (through r).
        memset(s->drh, 0, R * Hp * sizeof(float));
        gemmNN(s->drh, Hp, dgx + gn, S, whT + gn * Hp, Hp, rows, H, hv);
        for (size_t b = 0; b < R; b++) {
          float *gx = dgx + b * S, *gh = dgh + b * S;
          for (int j = 0; j < H; j += 8) {
            const Lanes m(H - j);
            const size_t e = b * Hp + j;
            const __m256 drh = m.load(s->drh + e), rv = m.load(r + e);
            const __m256 dar = _mm256_mul_ps(_mm256_mul_ps(drh, m.load(hp + e)), _mm256_mul_ps(rv, _mm256_sub_ps(one, rv)));
            m.store(gx + gr + j, dar);
            m.store(gh + gr + j, dar);
            m.store(dhNext + e, _mm256_fmadd_ps(drh, rv, m.load(dhNext + e)));
          }
        }
      }
      gemmNN(dhNext, Hp, dgh, S, whT, Hp, rows, after ? 3 * H : static_cast<int>(gn), hv);
      if (l > 0) {
        memset(s->dx, 0, R * Hp * sizeof(float));
        gemmNN(s->dx, Hp, dgx, S, s->wxT + static_cast<size_t>(l) * 3 * H * Hp, Hp, rows, 3 * H, hv);
      }
    }
  }

  // ── weight gradients over all T * rows rows ──
  memset(grad, 0, s->weightFloats * sizeof(double));
  const int M = T * rows;
  const float unit = 1.0f;
  auto addTmp = [&](double* dst, size_t ld, int kRows, int cols) {
    for (int k = 0; k < kRows; k++)
      for (int c = 0; c < cols; c++) dst[k * ld + c] += s->ctmp[k * Sp + c];
    memset(s->ctmp, 0, static_cast<size_t>(kRows) * Sp * sizeof(double));
  };
  for (int l = 0; l < L; l++) {
    const GruTrainLayer& at = s->layers[l];
    const float* X = l == 0 ? input : HS(l - 1, 1);
    const size_t ldx = l == 0 ? I : Hp;
    const float *dgx = DG(s->dgx, l, 0), *dgh = DG(s->dgh, l, 0);
    gemmTN(grad + at.wx, S, X, ldx, dgx, S, M, at.inSize, static_cast<int>(S / 8));
    gemmTN(grad + at.bx, 0, &unit, 0, dgx, S, M, 1, static_cast<int>(S / 8));
    if (after) {
      gemmTN(grad + at.wh, S, HS(l, 0), Hp, dgh, S, M, H, static_cast<int>(S / 8));
      gemmTN(s->ctmp, Sp, &unit, 0, dgh + gn, S, M, 1, hv);
      addTmp(grad + at.bhn, 0, 1, H);
    } else {
      // r and z columns from h (dgh's n columns are zero here), n columns from r * h.
      gemmTN(grad + at.wh, S, HS(l, 0), Hp, dgh, S, M, H, vecsOf(gn));
      gemmTN(s->ctmp, Sp, G(s->q, l, 0), Hp, dgx + gn, S, M, H, hv);
      addTmp(grad + at.wh + gn, S, H, H);
    }
  }
  gemmTN(s->ctmp, Sp, s->dy, O, HS(L - 1, 1), Hp, M, O, hv);
  addTmp(grad + s->headW, hrs, O, H);
  for (int o = 0; o < O; o++) {
    double acc = 0;
    for (int m = 0; m < M; m++) acc += s->dy[m * O + o];
    grad[s->headB + o] = acc;
  }
  return sum / (static_cast<double>(T - burnIn) * R * O);
}
