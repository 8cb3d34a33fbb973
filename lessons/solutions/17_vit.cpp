// Reference solutions to lesson 17's exercises (built with HEED_SOLUTIONS=ON).
#include "autograd/ops.h"
#include "lessons/17_vit/exercises.h"

namespace heed::lesson17 {

Tensor patchify(const Tensor& images, int64_t patch) {
  HEED_CHECK(images.dim() == 3, "patchify: expected images (B, H, W), got ", images.shape());
  const int64_t B = images.size(0), H = images.size(1), W = images.size(2), p = patch;
  HEED_CHECK(p >= 1 && H % p == 0 && W % p == 0, "patchify: patch ", p, " must divide the image ",
             images.shape(), " in both directions");
  // (B, H, W) -> (B, H/p, p, W/p, p) -> (B, H/p, W/p, p, p) -> (B, N, p*p): one copy.
  const Tensor grid = view(contiguous(images), {B, H / p, p, W / p, p});
  return reshape(permute(grid, {0, 1, 3, 2, 4}), {B, (H / p) * (W / p), p * p});
}

Variable patch_embedding(const Variable& images, const Variable& weight, const Variable& bias,
                         int64_t patch) {
  HEED_CHECK(images.dim() == 3, "patch_embedding: expected images (B, H, W), got ", images.shape());
  const int64_t B = images.size(0), H = images.size(1), W = images.size(2), p = patch;
  HEED_CHECK(p >= 1 && H % p == 0 && W % p == 0, "patch_embedding: patch ", p, " must divide the image ",
             images.shape());
  HEED_CHECK(weight.dim() == 2 && weight.size(1) == p * p, "patch_embedding: weight must be (D, ", p * p,
             "), got ", weight.shape());
  const int64_t D = weight.size(0), gw = W / p, N = (H / p) * gw;
  HEED_CHECK(bias.shape() == Shape({D}), "patch_embedding: bias must be (", D, ",), got ", bias.shape());
  const Tensor x = contiguous(images.value()), w = contiguous(weight.value()), b = contiguous(bias.value());
  // Pixel k = i p + j of patch n of image s sits at offset pixel(s, n, k) in x.
  auto pixel = [=](int64_t s, int64_t n, int64_t k) {
    return (s * H + (n / gw) * p + k / p) * W + (n % gw) * p + k % p;
  };
  Tensor out = empty({B, N, D});
  for (int64_t s = 0; s < B; ++s)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t d = 0; d < D; ++d) {
        float acc = b.data()[d];
        for (int64_t k = 0; k < p * p; ++k) acc += w.data()[d * p * p + k] * x.data()[pixel(s, n, k)];
        out.data()[(s * N + n) * D + d] = acc;
      }
  return record("patch_embedding", out, {images, weight, bias},
                [x = Saved(x, "its images"), w = Saved(w, "its weight"), pixel, B, N, D, p,
                 shape = images.shape()](const Tensor& grad) {
                  const Tensor g = contiguous(grad);
                  Tensor dx = zeros(shape), dw = zeros({D, p * p}), db = zeros({D});
                  for (int64_t s = 0; s < B; ++s)
                    for (int64_t n = 0; n < N; ++n)
                      for (int64_t d = 0; d < D; ++d) {
                        const float gd = g.data()[(s * N + n) * D + d];
                        db.data()[d] += gd;
                        for (int64_t k = 0; k < p * p; ++k) {
                          dx.data()[pixel(s, n, k)] += gd * w.get().data()[d * p * p + k];
                          dw.data()[d * p * p + k] += gd * x.get().data()[pixel(s, n, k)];
                        }
                      }
                  return Grads{dx, dw, db};
                });
}

Tensor class_token_map(const Tensor& weights, int64_t grid_h, int64_t grid_w, int64_t patch) {
  const int64_t N = grid_h * grid_w;
  HEED_CHECK(weights.dim() == 4 && weights.size(2) == N + 1 && weights.size(3) == N + 1,
             "class_token_map: weights must be (B, H, ", N + 1, ", ", N + 1, ") for a ", grid_h, " x ",
             grid_w, " grid of patches, got ", weights.shape());
  const int64_t B = weights.size(0), p = patch;
  const Tensor row =
      narrow(select(mean(weights, {1}), 1, 0), 1, 1, N);  // (B, N): row 0, past the class token
  const Tensor total = sum(row, {1}, /*keepdim=*/true);
  const Tensor share = row / maximum(total, scalar(1e-30f));  // zeros stay zeros
  // (B, gh, 1, gw, 1) -> expand (B, gh, p, gw, p) -> (B, gh p, gw p)
  const Tensor grid = expand(view(contiguous(share), {B, grid_h, 1, grid_w, 1}), {B, grid_h, p, grid_w, p});
  return reshape(contiguous(grid), {B, grid_h * p, grid_w * p});
}

}  // namespace heed::lesson17
