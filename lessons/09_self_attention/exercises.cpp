// Your answers to lesson 09's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/09_self_attention/exercises.h"

#include "lessons/common/exercise.h"

namespace heed::lesson09 {

AttentionTensors attention_forward(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask) {
  (void)q, (void)k, (void)v, (void)mask;
  course::not_implemented(9, 1,
                          "scores = q kᵀ / sqrt(Dh); fill hidden scores with a large negative number, "
                          "subtract the row max, exp, zero the hidden ones, divide by the row sum "
                          "(or leave 0 when it is 0); see section 2 of lesson.cpp");
}

Variable attention_op(const Variable& q, const Variable& k, const Variable& v, const Tensor& mask) {
  (void)q, (void)k, (void)v, (void)mask;
  course::not_implemented(9, 2,
                          "record(\"attention\", out, {q, k, v}, backward) with the backward written from "
                          "the weights it saves: dV, dW, dS, then dQ and dK; see section 4 of lesson.cpp");
}

Tensor self_attention_mask(const std::vector<int64_t>& lengths, int64_t T, int64_t S, bool causal) {
  (void)lengths, (void)T, (void)S, (void)causal;
  course::not_implemented(9, 3,
                          "a (B, T, S) tensor: 1 where j >= lengths[b], or (causal) where j > S - T + i; "
                          "see section 5 of lesson.cpp");
}

}  // namespace heed::lesson09
