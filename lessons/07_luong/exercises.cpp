// Your answers to lesson 07's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/07_luong/exercises.h"

#include "lessons/common/exercise.h"
#include "nn/nn.h"

namespace heed::lesson07 {

nn::LuongOutput luong_general(const nn::LuongAttention& attention, const Variable& h_t, const Variable& keys,
                              const Tensor& key_padding) {
  (void)attention, (void)h_t, (void)keys, (void)key_padding;
  course::not_implemented(7, 1,
                          "scores (B, 1, Hid)(B, Hid, S), masked_softmax, context (B, 1, S)(B, S, Hid), "
                          "then tanh of W_c times cat({c, h_t}, 1); see section 2 of lesson.cpp");
}

Variable luong_concat_scores(const nn::LuongAttention& attention, const Variable& h_t, const Variable& keys) {
  (void)attention, (void)h_t, (void)keys;
  course::not_implemented(7, 2,
                          "expand(unsqueeze(h_t, 1), {B, S, Hid}), cat with the keys on dim 2, W_a, tanh, "
                          "v_a, reshape to (B, S); see section 3 of lesson.cpp");
}

LocalPWindow local_p_window(const nn::LuongAttention& attention, const Variable& h_t, const Tensor& lengths,
                            int64_t S) {
  (void)attention, (void)h_t, (void)lengths, (void)S;
  course::not_implemented(7, 3,
                          "p_t from two products, tanh and sigmoid, times the lengths; then arange(S) "
                          "minus unsqueeze(p_t, 1) for both the gaussian and the mask; see section 4 of "
                          "lesson.cpp");
}

}  // namespace heed::lesson07
