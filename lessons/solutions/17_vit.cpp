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

Variable vit_tokens(const Variable& patches, nn::Linear& embed, const Variable& cls,
                    const Variable& positions) {
  HEED_CHECK(patches.dim() == 3 && patches.size(2) == embed.options().in_features, "vit_tokens: patches ",
             patches.shape(), " do not fit embed's input width ", embed.options().in_features);
  const int64_t B = patches.size(0), N = patches.size(1), D = embed.options().out_features;
  HEED_CHECK(cls.shape() == Shape({1, 1, D}), "vit_tokens: cls must be (1, 1, ", D, "), got ", cls.shape());
  HEED_CHECK(positions.dim() == 2 && positions.size(1) == D && positions.size(0) >= N + 1,
             "vit_tokens: positions ", positions.shape(), " must be (L, ", D, ") with L >= ", N + 1);
  const Variable tokens = cat({expand(cls, {B, 1, D}), embed.forward(patches)}, 1);  // (B, N + 1, D)
  return tokens + narrow(positions, 0, 0, N + 1);                                    // (N + 1, D) broadcast
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
