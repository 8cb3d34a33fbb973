// Your answers to lesson 16's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/16_interpreting/exercises.h"

#include "autograd/ops.h"
#include "lessons/common/exercise.h"

namespace heed::lesson16 {

Tensor attention_rollout(const std::vector<Tensor>& layers) {
  (void)layers;
  course::not_implemented(16, 1,
                          "average the heads, add the identity, renormalize each row, then multiply the "
                          "layers with the last one on the left; see section 4 of lesson.cpp");
}

nn::Attention masked_heads_attention(nn::MultiHeadAttention& mha, const Variable& x, const Tensor& head_mask,
                                     const Tensor& key_padding) {
  (void)mha, (void)x, (void)head_mask, (void)key_padding;
  course::not_implemented(16, 2,
                          "view (B, T, D) as (B, T, H, Dh) and transpose to (B, H, T, Dh); the mask is "
                          "(1, H, 1, 1) against the heads' outputs; see section 5 of lesson.cpp");
}

Variable attention_entropy(const Variable& weights) {
  (void)weights;
  course::not_implemented(16, 3,
                          "log of an exact zero is -inf, and 0 * -inf is NaN: leave those terms out, in the "
                          "forward and the backward; see section 3 of lesson.cpp");
}

}  // namespace heed::lesson16
