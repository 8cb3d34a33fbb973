// Lesson 17's exercises: write them in exercises.cpp; `make exercises` grades them.
//
// What a Vision Transformer adds to the encoder of lesson 14: cutting an
// image into patches, embedding them (a Linear on each patch, or the same as
// one strided convolution, with its backward), and reading the class token's
// attention back onto the image's pixels.
#pragma once

#include <cstdint>

#include "autograd/variable.h"
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

// Exercise 2: the patch embedding as one op, straight from the image,
// recorded as "patch_embedding" (one heed::record, with its backward).
//   images: (B, H, W)  weight: (D, p*p)  bias: (D,)  ->  tokens: (B, N, D)
//   tokens[b][n][d] = bias[d] + sum_{i,j} weight[d][i p + j] images[b][r p + i][c p + j]
// with patch n at patch-row r = n / (W/p), patch-column c = n % (W/p): the
// same numbers as Linear(patchify(images, p)) with that Linear's weight and
// bias, without materializing the patches. (It is a convolution whose stride
// is its kernel, which is how ViT code writes it: Conv2d(1, D, p, stride=p).)
// The backward, for the upstream gradient g: (B, N, D):
//   d images[b][r p + i][c p + j] = sum_d g[b][n][d] weight[d][i p + j]
//   d weight[d][i p + j]          = sum_{b, n} g[b][n][d] images[b][r p + i][c p + j]
//   d bias[d]                     = sum_{b, n} g[b][n][d]
// Shapes that do not fit (weight not (D, p*p), bias not (D,), p not dividing
// H and W) are a heed::Error naming them.
Variable patch_embedding(const Variable& images, const Variable& weight, const Variable& bias, int64_t patch);

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
