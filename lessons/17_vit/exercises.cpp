// Your answers to lesson 17's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/17_vit/exercises.h"

#include "autograd/ops.h"
#include "lessons/common/exercise.h"

namespace heed::lesson17 {

Tensor patchify(const Tensor& images, int64_t patch) {
  (void)images, (void)patch;
  course::not_implemented(17, 1,
                          "the pixel (y, x) lies in patch (y / p) * (W / p) + x / p at place (y % p) * p + "
                          "x % p; see section 2 of lesson.cpp");
}

Variable patch_embedding(const Variable& images, const Variable& weight, const Variable& bias,
                         int64_t patch) {
  (void)images, (void)weight, (void)bias, (void)patch;
  course::not_implemented(17, 2,
                          "loop over (b, n, d) and the patch's p*p pixels; the backward runs the same loops, "
                          "adding into three gradients; see section 3 of lesson.cpp");
}

Tensor class_token_map(const Tensor& weights, int64_t grid_h, int64_t grid_w, int64_t patch) {
  (void)weights, (void)grid_h, (void)grid_w, (void)patch;
  course::not_implemented(17, 3,
                          "row 0 of the head mean, columns 1..N, divided by their sum; pixel (y, x) takes "
                          "patch (y / p) * grid_w + x / p; see section 5 of lesson.cpp");
}

}  // namespace heed::lesson17
