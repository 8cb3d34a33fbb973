// Your answers to lesson 13's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/13_efficient_attention/exercises.h"

#include "lessons/common/exercise.h"
#include "nn/nn.h"

namespace heed::lesson13 {

Tensor sliding_window_mask(int64_t T, int64_t S, int64_t window, bool causal) {
  (void)T, (void)S, (void)window, (void)causal;
  course::not_implemented(13, 1,
                          "turn the window into a band (left, right) and hide every key outside "
                          "[p_i - left, p_i + right], p_i = S - T + i; see section 2 of lesson.cpp");
}

Tensor causal_linear_attention(const Tensor& q, const Tensor& k, const Tensor& v, float eps) {
  (void)q, (void)k, (void)v, (void)eps;
  course::not_implemented(13, 2,
                          "walk the positions once, adding phi(k) v^T and phi(k) to two running sums, and "
                          "read each query where it sits; see section 3 of lesson.cpp");
}

SoftmaxBlock softmax_block(const Tensor& scores, const Tensor& v) {
  (void)scores, (void)v;
  course::not_implemented(13, 3,
                          "the row max m, then l and acc from e^(s - m), with care for rows that are all "
                          "-infinity; see section 4 of lesson.cpp");
}

SoftmaxBlock merge_blocks(const SoftmaxBlock& a, const SoftmaxBlock& b) {
  (void)a, (void)b;
  course::not_implemented(13, 3,
                          "rescale both blocks to the larger maximum before adding; a block with "
                          "m = -infinity adds nothing; see section 4 of lesson.cpp");
}

}  // namespace heed::lesson13
