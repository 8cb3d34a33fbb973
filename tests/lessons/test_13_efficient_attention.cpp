#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/13_efficient_attention/exercises.h"
#include "lessons/common/exercise.h"
#include "nn/nn.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

bool throws_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const NotImplemented&) {
    throw;  // a stub is not done, not right
  } catch (const Error&) {
    return true;
  }
  return false;
}

std::string sizes(const char* names, std::initializer_list<int64_t> values) {
  std::ostringstream text;
  text << names;
  for (int64_t v : values) text << " " << v;
  return text.str();
}

}  // namespace

TEST_CASE("lesson 13, exercise 1: the sliding-window mask") {
  for (int64_t T : {1, 3, 17, 63, 65})
    for (int64_t extra : {0, 1, 5})
      for (int64_t window : {1, 2, 3, 4, 17, 100})
        for (bool causal : {true, false}) {
          const int64_t S = T + extra;
          testing::expect_close(13, 1,
                                sizes("T, S, window:", {T, S, window}) + (causal ? ", causal" : ", centred"),
                                nn::sliding_window_mask(T, window, causal, S),
                                lesson13::sliding_window_mask(T, S, window, causal), 0.0);
        }
  testing::expect_true(13, 1, "window 0", throws_error([] { lesson13::sliding_window_mask(4, 4, 0, true); }),
                       "a window of no key must throw heed::Error");
  testing::expect_true(13, 1, "T 5, S 3", throws_error([] { lesson13::sliding_window_mask(5, 3, 2, true); }),
                       "fewer keys than queries must throw heed::Error");
}

TEST_CASE("lesson 13, exercise 2: causal linear attention as a recurrence") {
  Generator gen(13);
  struct Case {
    int64_t T, S, d, e;
  };
  for (const Case& c : {Case{1, 1, 1, 1}, Case{3, 3, 4, 2}, Case{17, 17, 3, 5}, Case{5, 17, 8, 8},
                        Case{63, 63, 16, 1}, Case{65, 65, 4, 9}, Case{1, 65, 2, 3}}) {
    const Tensor q = randn({c.T, c.d}, gen), k = randn({c.S, c.d}, gen), v = randn({c.S, c.e}, gen);
    const Tensor heeds = nn::linear_attention(Variable(q), Variable(k), Variable(v), /*causal=*/true).value();
    testing::expect_close(13, 2, sizes("T, S, d, e:", {c.T, c.S, c.d, c.e}), heeds,
                          lesson13::causal_linear_attention(q, k, v), 1e-4);
  }
  // Large negative features: phi = e^x, tiny but positive; eps keeps 0 / 0 away.
  const Tensor q = full({3, 2}, -100.0f), k = full({3, 2}, -100.0f), v = randn({3, 2}, gen);
  const Tensor heeds = nn::linear_attention(Variable(q), Variable(k), Variable(v), true).value();
  testing::expect_close(13, 2, "q and k all -100 (phi underflows to 0)", heeds,
                        lesson13::causal_linear_attention(q, k, v), 1e-4);
}

namespace {

// softmax(scores) v, row by row; a row hidden everywhere gives 0.
Tensor plain_attention(const Tensor& scores, const Tensor& v) {
  return matmul(masked_softmax(scores, eq(scores, scalar(-std::numeric_limits<float>::infinity())), -1), v);
}

// The statistics of the keys [start, start + n) of scores and v, by the learner's softmax_block.
lesson13::SoftmaxBlock block_of(const Tensor& scores, const Tensor& v, int64_t start, int64_t n) {
  return lesson13::softmax_block(contiguous(narrow(scores, 1, start, n)), contiguous(narrow(v, 0, start, n)));
}

Tensor finish(const lesson13::SoftmaxBlock& b) {
  return b.acc / unsqueeze(maximum(b.l, scalar(std::numeric_limits<float>::min())), 1);
}

}  // namespace

TEST_CASE("lesson 13, exercise 3: the online softmax") {
  Generator gen(31);
  const float inf = std::numeric_limits<float>::infinity();
  // Scores of a few sizes, split into blocks of a few sizes: the folded blocks
  // are the softmax over all the keys.
  for (int64_t S : {1, 3, 17, 63, 65})
    for (int64_t block : {1, 4, 16, 64}) {
      const int64_t T = 5, e = 3;
      Tensor scores = randn({T, S}, gen) * 3.0f, v = randn({S, e}, gen);
      // hide some keys: row 1 sees only key 0, row 2 every other key
      for (int64_t j = 0; j < S; ++j) {
        if (j > 0) scores.at({1, j}) = -inf;
        if (j % 2 == 1) scores.at({2, j}) = -inf;
      }
      lesson13::SoftmaxBlock folded = block_of(scores, v, 0, std::min(block, S));
      for (int64_t start = block; start < S; start += block)
        folded = lesson13::merge_blocks(folded, block_of(scores, v, start, std::min(block, S - start)));
      const std::string input = sizes("T, S, block:", {T, S, block});
      testing::expect_close(13, 3, input + " (acc / l)", plain_attention(scores, v), finish(folded), 1e-5);
      testing::expect_close(13, 3, input + " (m)", amax(scores, {1}), folded.m, 0.0);
    }
  // The first block sees nothing for row 0, the second nothing for row 1, and
  // row 2 sees nothing at all: no NaN, and row 2 stays l = 0, acc = 0.
  Tensor scores = randn({3, 6}, gen), v = randn({6, 2}, gen);
  for (int64_t j = 0; j < 6; ++j) {
    if (j < 3) scores.at({0, j}) = -inf;
    if (j >= 3) scores.at({1, j}) = -inf;
    scores.at({2, j}) = -inf;
  }
  lesson13::SoftmaxBlock a = block_of(scores, v, 0, 3), b = block_of(scores, v, 3, 3);
  testing::expect_close(13, 3, "a block a row sees nothing of (l)", from_vector({0.0f}, {1}),
                        narrow(a.l, 0, 0, 1), 0.0);
  lesson13::SoftmaxBlock ab = lesson13::merge_blocks(a, b), ba = lesson13::merge_blocks(b, a);
  testing::expect_close(13, 3, "hidden blocks, merged a then b", plain_attention(scores, v), finish(ab),
                        1e-5);
  testing::expect_close(13, 3, "hidden blocks, merged b then a", plain_attention(scores, v), finish(ba),
                        1e-5);
  testing::expect_close(13, 3, "a row hidden everywhere (l, acc)", zeros({3}),
                        cat({narrow(ab.l, 0, 2, 1), flatten(narrow(ab.acc, 0, 2, 1))}, 0), 0.0);
}
