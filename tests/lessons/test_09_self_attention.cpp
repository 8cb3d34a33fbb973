// Lesson 09's exercises, graded against nn::scaled_dot_product_attention and
// heed's masks, and the backward by gradcheck.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/09_self_attention/exercises.h"
#include "nn/attention/scaled_dot_product.h"
#include "tensor/random.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

struct Case {
  Shape lead;  // the leading dims of q, k and v
  int64_t T, S, Dh, Dv;
  std::string mask;  // "none", "causal", "padding" (sequence 0 has length 0: fully hidden rows)
  float scale = 1;   // of q: 300 gives scores of ~1000, which overflow a naive exp
};

const std::vector<Case> kCases = {
    {{1}, 1, 1, 1, 1, "none"},       {{2}, 3, 5, 4, 2, "none"},         {{2, 3}, 17, 17, 8, 8, "causal"},
    {{3}, 4, 9, 3, 5, "causal"},     {{3}, 5, 7, 4, 3, "padding"},      {{2, 2}, 3, 63, 2, 1, "padding"},
    {{2}, 6, 6, 16, 4, "none", 300}, {{3}, 4, 6, 8, 2, "padding", 300},
};

Shape with(const Shape& lead, std::vector<int64_t> last) {
  std::vector<int64_t> dims(lead.begin(), lead.end());
  dims.insert(dims.end(), last.begin(), last.end());
  return Shape(dims);
}

// (T, S) for causal; (B, 1, ..., 1, S) for padding, sequence b of length b * S / B
// (the first has none: all its rows are hidden).
Tensor mask_of(const Case& c) {
  if (c.mask == "causal") return nn::causal_mask(c.T, c.S);
  if (c.mask != "padding") return Tensor();
  const int64_t B = c.lead[0];
  std::vector<int64_t> lengths;
  for (int64_t b = 0; b < B; ++b) lengths.push_back(b * c.S / B + (b > 0 ? 1 : 0));
  std::vector<int64_t> dims = {B};
  for (int64_t d = 0; d < c.lead.size(); ++d) dims.push_back(1);
  dims.push_back(c.S);
  return reshape(nn::key_padding_mask(lengths, c.S), Shape(dims));
}

std::string describe(const Case& c) {
  std::ostringstream out;
  out << "q " << with(c.lead, {c.T, c.Dh}) << ", k " << with(c.lead, {c.S, c.Dh}) << ", v "
      << with(c.lead, {c.S, c.Dv}) << ", mask " << c.mask;
  if (c.scale != 1) out << ", q scaled by " << c.scale;
  return out.str();
}

bool finite(const Tensor& t) {
  const Tensor c = contiguous(t);
  for (int64_t i = 0; i < c.numel(); ++i)
    if (!std::isfinite(c.data()[i])) return false;
  return true;
}

}  // namespace

TEST_CASE("lesson 09, exercise 1: scaled dot-product attention with a mask") {
  Generator gen(9);
  for (const Case& c : kCases) {
    const Tensor q = randn(with(c.lead, {c.T, c.Dh}), gen) * c.scale;
    const Tensor k = randn(with(c.lead, {c.S, c.Dh}), gen), v = randn(with(c.lead, {c.S, c.Dv}), gen);
    const Tensor mask = mask_of(c);
    const nn::Attention heeds = nn::scaled_dot_product_attention(q, k, v, mask);
    const lesson09::AttentionTensors yours = lesson09::attention_forward(q, k, v, mask);
    testing::expect_true(9, 1, describe(c), yours.weights.defined() && finite(yours.weights),
                         "the weights hold NaN or inf (a fully hidden row must be zeros)");
    testing::expect_close(9, 1, describe(c) + " (weights)", heeds.weights.value(), yours.weights, 1e-5);
    testing::expect_close(9, 1, describe(c) + " (output)", heeds.output.value(), yours.output, 1e-4);
  }
}

TEST_CASE("lesson 09, exercise 2: the backward of attention through the softmax") {
  Generator gen(10);
  for (const Case& c : kCases) {
    if (c.scale != 1 || c.S > 20) continue;  // finite differences want moderate scores and few elements
    const Tensor q = randn(with(c.lead, {c.T, c.Dh}), gen), k = randn(with(c.lead, {c.S, c.Dh}), gen);
    const Tensor v = randn(with(c.lead, {c.S, c.Dv}), gen);
    const Tensor mask = mask_of(c);
    const Variable out =
        lesson09::attention_op(Variable(q, true), Variable(k, true), Variable(v, true), mask);
    testing::expect_true(9, 2, describe(c), out.op() == "attention",
                         "the output should come from one op you record, record(\"attention\", ...), "
                         "not from a chain of heed's ops (it came from '" +
                             out.op() + "')");
    testing::expect_close(9, 2, describe(c) + " (forward)",
                          nn::scaled_dot_product_attention(q, k, v, mask).output.value(), out.value(), 1e-4);
    testing::expect_gradcheck(
        9, 2, describe(c),
        [&](const std::vector<Variable>& x) { return lesson09::attention_op(x[0], x[1], x[2], mask); },
        {q, k, v});
  }
}

TEST_CASE("lesson 09, exercise 3: a causal and padding mask") {
  struct Sizes {
    int64_t T, S;
  };
  for (Sizes s : {Sizes{1, 1}, Sizes{3, 5}, Sizes{17, 17}, Sizes{4, 9}, Sizes{1, 63}}) {
    const std::vector<int64_t> lengths = {s.S, 0, s.S / 2, 1, s.S - 1 > 0 ? s.S - 1 : 0};
    for (bool causal : {false, true}) {
      const int64_t B = int64_t(lengths.size());
      Tensor expected = view(nn::key_padding_mask(lengths, s.S), {B, 1, s.S});
      if (causal) expected = add(expected, nn::causal_mask(s.T, s.S));
      expected = ne(expand(expected, {B, s.T, s.S}), scalar(0.0f));  // (B, T, S)
      std::ostringstream input;
      input << "lengths {" << lengths[0];
      for (int64_t b = 1; b < B; ++b) input << ", " << lengths[b];
      input << "}, T " << s.T << ", S " << s.S << (causal ? ", causal" : ", not causal");
      testing::expect_close(9, 3, input.str(), expected,
                            lesson09::self_attention_mask(lengths, s.T, s.S, causal), 0);
    }
  }
}
