// Your answers to lesson 06's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/06_bahdanau/exercises.h"

#include "lessons/common/exercise.h"
#include "nn/nn.h"

namespace heed::lesson06 {

Variable additive_scores(const nn::BahdanauAttention& attention, const Variable& query, const Variable& keys,
                         const Tensor& key_padding) {
  (void)attention, (void)query, (void)keys, (void)key_padding;
  course::not_implemented(6, 1,
                          "project the query (B, Hd) and the keys (B, S, Hd), unsqueeze the query to "
                          "(B, 1, Hd), tanh, then v; masked_fill the padding; see section 2 of lesson.cpp");
}

Variable masked_softmax_last(const Variable& scores, const Tensor& mask) {
  (void)scores, (void)mask;
  course::not_implemented(6, 2,
                          "exp of (score - visible row max) times the visible mask, over a row sum that "
                          "is never 0; see section 3 of lesson.cpp");
}

nn::Attention additive_attention(const nn::BahdanauAttention& attention, const Variable& query,
                                 const Variable& keys, const Tensor& key_padding) {
  (void)attention, (void)query, (void)keys, (void)key_padding;
  course::not_implemented(6, 3,
                          "exercises 1 and 2, then one batched product (B, 1, S)(B, S, Dk); see section 4 "
                          "of lesson.cpp");
}

}  // namespace heed::lesson06
