// Your answers to lesson 14's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/14_transformer/exercises.h"

#include "autograd/ops.h"
#include "lessons/common/exercise.h"

namespace heed::lesson14 {

Variable encoder_layer_forward(nn::TransformerEncoderLayer& layer, const Variable& src,
                               const nn::AttentionMasks& masks) {
  (void)layer, (void)src, (void)masks;
  course::not_implemented(14, 1,
                          "a residual adds the sublayer's input to its output; post-norm normalizes the "
                          "sum, pre-norm the sublayer's input; see section 2 of lesson.cpp");
}

Variable decoder_layer_forward(nn::TransformerDecoderLayer& layer, const Variable& tgt,
                               const Variable& memory, const Tensor& memory_padding) {
  (void)layer, (void)tgt, (void)memory, (void)memory_padding;
  course::not_implemented(14, 2,
                          "three sublayers: causal self-attention, cross-attention (keys and values from "
                          "memory), feed-forward; see section 3 of lesson.cpp");
}

Variable label_smoothed_cross_entropy(const Variable& logits, const Tensor& target, float smoothing,
                                      int64_t ignore_index) {
  (void)logits, (void)target, (void)smoothing, (void)ignore_index;
  course::not_implemented(14, 3,
                          "log_softmax each row stably; the target distribution puts 1 - e + e / C on the "
                          "target and e / C elsewhere; see section 4 of lesson.cpp");
}

}  // namespace heed::lesson14
