// Lesson 10's exercises, graded against nn::MultiHeadAttention and its helpers.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "lessons/10_multi_head/exercises.h"
#include "nn/attention/multi_head.h"
#include "tensor/random.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

std::string sizes(std::initializer_list<std::pair<const char*, int64_t>> named) {
  std::ostringstream out;
  bool first = true;
  for (auto [name, n] : named) {
    out << (first ? "" : ", ") << name << " " << n;
    first = false;
  }
  return out.str();
}

}  // namespace

TEST_CASE("lesson 10, exercise 1: split and merge heads by views") {
  Generator gen(10);
  struct Sizes {
    int64_t B, T, H, Dh;
  };
  for (Sizes s :
       {Sizes{1, 1, 1, 1}, Sizes{3, 17, 3, 5}, Sizes{2, 5, 4, 1}, Sizes{1, 3, 1, 17}, Sizes{2, 63, 2, 3}}) {
    const std::string input = sizes({{"B", s.B}, {"T", s.T}, {"H", s.H}, {"Dh", s.Dh}});
    const Tensor x = randn({s.B, s.T, s.H * s.Dh}, gen);
    const Variable split = lesson10::split_heads(x, s.H);
    testing::expect_close(10, 1, input + " (split)", detail::split_heads(x, s.H).value(), split.value(), 0);
    testing::expect_true(10, 1, input, split.value().storage() == x.storage(),
                         "split_heads copied x; it should be a view of x's storage (view + transpose)");
    testing::expect_close(10, 1, input + " (merge of split)", x, lesson10::merge_heads(split).value(), 0);
    const Tensor heads = randn({s.B, s.H, s.T, s.Dh}, gen);
    testing::expect_close(10, 1, input + " (merge)", detail::merge_heads(heads).value(),
                          lesson10::merge_heads(heads).value(), 0);
  }
}

TEST_CASE("lesson 10, exercise 2: multi-head attention is H single-head attentions and a projection") {
  Generator gen(11);
  struct Sizes {
    int64_t B, T, S, D, H;
    bool causal;
  };
  for (Sizes s : {Sizes{1, 1, 1, 1, 1, false}, Sizes{2, 5, 5, 12, 3, true}, Sizes{3, 4, 7, 8, 2, false},
                  Sizes{2, 17, 17, 6, 6, true}, Sizes{1, 3, 9, 10, 1, false}}) {
    const std::string input = sizes({{"B", s.B}, {"T", s.T}, {"S", s.S}, {"D", s.D}, {"H", s.H}}) +
                              (s.causal ? ", causal mask" : ", a random mask");
    nn::MultiHeadAttention mha({.embed_dim = s.D, .num_heads = s.H}, gen);
    const Tensor query = randn({s.B, s.T, s.D}, gen), key = randn({s.B, s.S, s.D}, gen);
    const Tensor value = randn({s.B, s.S, s.D}, gen);
    // A random mask that leaves each row at least one key.
    Tensor mask = s.causal ? nn::causal_mask(s.T, s.S) : gt(rand({s.T, s.S}, gen), scalar(0.7f));
    if (!s.causal) fill_(select(mask, 1, 0), 0.0f);
    const nn::Attention heeds = mha.forward(query, key, value, {.attn = mask});
    const nn::Attention yours = lesson10::multi_head_by_hand(mha, query, key, value, mask);
    testing::expect_close(10, 2, input + " (output)", heeds.output.value(), yours.output.value(), 1e-4);
    testing::expect_close(10, 2, input + " (weights)", heeds.weights.value(), yours.weights.value(), 1e-5);
  }
}

TEST_CASE("lesson 10, exercise 3: a decoding step with a key/value cache") {
  Generator gen(12);
  struct Sizes {
    int64_t B, T, D, H, chunk;  // chunk: tokens per step
  };
  for (Sizes s : {Sizes{1, 1, 2, 1, 1}, Sizes{2, 5, 12, 3, 1}, Sizes{3, 17, 8, 2, 1}, Sizes{2, 9, 6, 3, 3}}) {
    const std::string input =
        sizes({{"B", s.B}, {"T", s.T}, {"D", s.D}, {"H", s.H}, {"tokens per step", s.chunk}});
    nn::MultiHeadAttention mha({.embed_dim = s.D, .num_heads = s.H}, gen);
    const Tensor x = randn({s.B, s.T, s.D}, gen);
    const Tensor full = mha.forward(x, {.causal = true}).output.value();
    nn::KVCache yours, heeds;
    std::vector<Variable> steps;
    for (int64_t t = 0; t < s.T; t += s.chunk) {
      const Tensor x_new = narrow(x, 1, t, s.chunk);
      steps.push_back(lesson10::kv_cache_step(mha, x_new, yours));
      mha.forward(x_new, {.causal = true}, &heeds);
    }
    testing::expect_close(10, 3, input + " (outputs, step by step against all at once)", full,
                          cat(steps, 1).value(), 1e-4);
    testing::expect_true(10, 3, input, yours.k.defined() && yours.v.defined(), "the cache is still empty");
    if (yours.k.defined() && yours.v.defined()) {
      testing::expect_close(10, 3, input + " (cache.k)", heeds.k.value(), yours.k.value(), 1e-5);
      testing::expect_close(10, 3, input + " (cache.v)", heeds.v.value(), yours.v.value(), 1e-5);
    }
  }
}
