// Lesson 17's exercises: write them in exercises.cpp; `make exercises` grades them.
//
// The three pieces a Vision Transformer adds to the encoder of lesson 14:
// cutting an image into patch tokens, the input sequence (patch embeddings
// behind a class token, plus positions), and reading the class token's
// attention back onto the image's pixels.
#pragma once

#include <cstdint>

#include "autograd/variable.h"
#include "nn/linear.h"
#include "tensor/tensor.h"

namespace heed::lesson17 {

// Exercise 1: cut images into square patches, one row of pixels per patch.
//   images: (B, H, W), patch p dividing H and W  ->  (B, N, p*p), N = (H/p)(W/p)
// Patch n is the one in patch-row r = n / (W/p), patch-column c = n % (W/p)
// (row-major, as a reader scans the image), and its p*p pixels are laid out
// row-major too:
//   out[b][n][i*p + j] = images[b][r*p + i][c*p + j]
// Any input layout (a transposed or sliced view) gives the same result as its
// contiguous copy. images not 3-D, p < 1, or H or W not a multiple of p is a
// heed::Error naming the shape and p.
Tensor patchify(const Tensor& images, int64_t patch);

// Exercise 2: the Transformer's input sequence, from patches.
//   patches: (B, N, P)  embed: Linear P -> D  cls: (1, 1, D)  positions: (L, D), L >= N + 1
//   tokens = [cls ; embed(patches)]: (B, N + 1, D)   (the class token first, in every image)
//   return tokens + positions[0 .. N]                (row t of the table added to token t)
// All Variable ops: gradients reach patches, embed's weights, cls (summed over
// the batch: one vector serves every image) and the first N + 1 rows of
// positions. Shapes that do not fit (P not embed's input width, cls not
// (1, 1, D), fewer than N + 1 positions) are a heed::Error naming them.
Variable vit_tokens(const Variable& patches, nn::Linear& embed, const Variable& cls,
                    const Variable& positions);

// Exercise 3: what the class token looked at, drawn as an image.
//   weights: (B, Hh, N + 1, N + 1), one layer's attention, token 0 the class
//   token and tokens 1..N the patches in patchify's order; the patches form a
//   grid_h x grid_w grid of p x p pixels  ->  (B, grid_h p, grid_w p)
// For each image: the class token's row (row 0), averaged over the Hh heads,
// without its column 0 (the class token attending to itself is no place in
// the image), renormalized to sum to 1 over the N patches (all zeros stays
// zeros), each patch's share painted on all p*p of its pixels. Every image of
// the result sums to p*p. N != grid_h grid_w, or weights not (B, Hh, N+1, N+1),
// is a heed::Error.
Tensor class_token_map(const Tensor& weights, int64_t grid_h, int64_t grid_w, int64_t patch);

}  // namespace heed::lesson17
