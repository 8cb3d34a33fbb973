// Your answers to lesson 10's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/10_multi_head/exercises.h"

#include "lessons/common/exercise.h"

namespace heed::lesson10 {

Variable split_heads(const Variable& x, int64_t heads) {
  (void)x, (void)heads;
  course::not_implemented(
      10, 1, "a view to (B, T, H, Dh), then transpose dims 1 and 2; see section 1 of lesson.cpp");
}

Variable merge_heads(const Variable& x) {
  (void)x;
  course::not_implemented(
      10, 1, "transpose dims 1 and 2 back, then reshape to (B, T, H*Dh); see section 1 of lesson.cpp");
}

nn::Attention multi_head_by_hand(const nn::MultiHeadAttention& mha, const Variable& query,
                                 const Variable& key, const Variable& value, const Tensor& mask) {
  (void)mha, (void)query, (void)key, (void)value, (void)mask;
  course::not_implemented(10, 2,
                          "narrow each projection's weight (dim 0) and bias to head h's Dh rows, attend per "
                          "head, cat the outputs, then out_proj; see section 2 of lesson.cpp");
}

Variable kv_cache_step(const nn::MultiHeadAttention& mha, const Variable& x_new, nn::KVCache& cache) {
  (void)mha, (void)x_new, (void)cache;
  course::not_implemented(10, 3,
                          "project, split heads, cat onto cache.k and cache.v along dim 2, attend with "
                          "nn::causal_mask(T_new, S), merge, out_proj; see section 5 of lesson.cpp");
}

}  // namespace heed::lesson10
