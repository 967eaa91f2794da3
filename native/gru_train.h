// Training arithmetic (loss + gradient by backpropagation through time) for the GRU stack + head,
// on the packed weights of src/kernel/layout.ts. Free of N-API (gru_train_addon.cc is the glue).
// The TypeScript twin is src/train/backprop.ts; both are held to the same tests.
#ifndef GRU_STREAM_TRAIN_H
#define GRU_STREAM_TRAIN_H

#include <stddef.h>

struct GruTrainLayer {
  int inSize;
  size_t wx, wh, bx, bhn;  // float offsets into the packed weights (layout.ts LayerRegions)
};

struct GruTrainState {
  // Shape and layout (from layout.ts through the addon; this code computes no weight offsets).
  int I, H, L, O, T, maxRows;
  bool resetAfter;
  size_t S;               // gateStride
  size_t gateR, gateZ, gateN;  // gate column offsets in a packed row (layout.ts WeightLayout.gates)
  size_t headW, headB, headRowStride;
  size_t weightFloats;    // WeightLayout.totalFloats: the weights and the gradient have this length
  GruTrainLayer* layers;  // L entries

  // Scratch, allocated once for T steps and maxRows rows (see gru_train.cc for the map).
  size_t Hp, Sp;          // H rounded up to 8; S plus one vector of slack
  float* block;           // the one allocation behind every float pointer below
  float *hs, *r, *z, *n, *q, *dgx, *dgh, *y, *dy, *gx, *gh, *dh, *dhNext, *dx, *drh, *whT, *wxT;
  double* ctmp;           // [max(H, O, I)][Sp] gradient products that may overrun a packed row
};

bool gru_train_alloc(GruTrainState* s);
void gru_train_free(GruTrainState* s);

// Loss of the batch, gradient (w.r.t. the packed weights, float64, same offsets) into grad.
// input [T][rows][I], target [T][rows][O], h0 [L][rows][H] or null; rows <= maxRows, burnIn < T.
double gru_train_step(GruTrainState* s, const float* w, const float* input, const float* target, const float* h0,
                      int burnIn, int rows, double* grad);

#endif
