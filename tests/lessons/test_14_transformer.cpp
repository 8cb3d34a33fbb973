#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "lessons/14_transformer/exercises.h"
#include "nn/loss.h"
#include "tensor/random.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

// Odd sizes, both norms, both activations; dropout 0.1 with the layer in eval
// mode, so a forward that ran dropout anyway would still be wrong in training.
struct LayerCase {
  int64_t d_model, heads, ff, batch, len, memory_len;
  bool norm_first;
  nn::Activation activation;
  bool padded;
};
const std::vector<LayerCase> kCases = {
    {4, 1, 3, 1, 1, 3, false, nn::Activation::relu, false},
    {8, 2, 17, 3, 5, 7, false, nn::Activation::relu, true},
    {8, 2, 17, 3, 5, 7, true, nn::Activation::relu, true},
    {12, 4, 7, 2, 17, 1, true, nn::Activation::gelu, false},
    {12, 3, 63, 2, 6, 17, false, nn::Activation::gelu, true},
};

std::string describe(const LayerCase& c) {
  std::ostringstream out;
  out << "d_model " << c.d_model << ", nhead " << c.heads << ", dim_feedforward " << c.ff << ", batch "
      << c.batch << ", length " << c.len << ", memory " << c.memory_len
      << (c.norm_first ? ", pre-norm" : ", post-norm")
      << (c.activation == nn::Activation::gelu ? ", gelu" : ", relu") << (c.padded ? ", padded keys" : "");
  return out.str();
}

nn::TransformerLayerOptions options_of(const LayerCase& c, uint64_t seed) {
  return {.d_model = c.d_model,
          .nhead = c.heads,
          .dim_feedforward = c.ff,
          .dropout = 0.1f,
          .activation = c.activation,
          .norm_first = c.norm_first,
          .seed = seed};
}

// (B, S): row b has its last b keys padded (row 0 none), never all of them.
Tensor padding_of(int64_t batch, int64_t len) {
  Tensor mask = zeros({batch, len});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = std::max<int64_t>(1, len - b); s < len; ++s) mask.at({b, s}) = 1.0f;
  return mask;
}

// out and d sum(out * w) / d input, heed's against the learner's.
void grade_layer(int exercise, const std::string& input,
                 const std::function<Variable(const Variable&)>& heeds,
                 const std::function<Variable(const Variable&)>& yours, const Tensor& x, Generator& gen) {
  Variable theirs_in(x, true), mine_in(x, true);
  Variable expected = heeds(theirs_in), computed = yours(mine_in);
  testing::expect_close(14, exercise, input + " (output)", expected.value(), computed.value(), 1e-5);
  if (!computed.defined() || computed.shape() != expected.shape()) return;
  const Tensor w = randn(expected.shape(), gen);
  sum(expected * Variable(w)).backward();
  sum(computed * Variable(w)).backward();
  testing::expect_true(14, exercise, input, mine_in.grad().defined(),
                       "your output does not depend on the input through the graph (no gradient reached it)");
  if (mine_in.grad().defined())
    testing::expect_close(14, exercise, input + " (d sum(out * w) / d input)", theirs_in.grad(),
                          mine_in.grad(), 1e-4);
}

}  // namespace

TEST_CASE("lesson 14, exercise 1: an encoder layer from its sublayers") {
  Generator gen(14);
  uint64_t seed = 1;
  for (const LayerCase& c : kCases) {
    nn::TransformerEncoderLayer layer(options_of(c, seed++));
    layer.eval();
    const Tensor x = randn({c.batch, c.len, c.d_model}, gen);
    const nn::AttentionMasks masks{.key_padding = c.padded ? padding_of(c.batch, c.len) : Tensor()};
    grade_layer(
        1, describe(c), [&](const Variable& v) { return layer.forward(v, masks); },
        [&](const Variable& v) { return lesson14::encoder_layer_forward(layer, v, masks); }, x, gen);
  }
}

TEST_CASE("lesson 14, exercise 2: a decoder layer from its sublayers") {
  Generator gen(15);
  uint64_t seed = 20;
  for (const LayerCase& c : kCases) {
    nn::TransformerDecoderLayer layer(options_of(c, seed++));
    layer.eval();
    const Tensor y = randn({c.batch, c.len, c.d_model}, gen);
    const Variable memory(randn({c.batch, c.memory_len, c.d_model}, gen));
    const Tensor padding = c.padded ? padding_of(c.batch, c.memory_len) : Tensor();
    grade_layer(
        2, describe(c),
        [&](const Variable& v) {
          return layer.forward(v, memory, {.causal = true}, {.key_padding = padding});
        },
        [&](const Variable& v) { return lesson14::decoder_layer_forward(layer, v, memory, padding); }, y,
        gen);
  }
  // Causal: the output at t does not change when the target after t does.
  nn::TransformerDecoderLayer layer(options_of(kCases[2], 40));
  layer.eval();
  const Tensor y = randn({1, 6, 8}, gen);
  const Variable memory(randn({1, 4, 8}, gen));
  Tensor changed = clone(y);
  for (int64_t d = 0; d < 8; ++d) changed.at({0, 4, d}) += 1.0f;
  const Tensor before = lesson14::decoder_layer_forward(layer, Variable(y), memory).value();
  const Tensor after = lesson14::decoder_layer_forward(layer, Variable(changed), memory).value();
  testing::expect_close(14, 2, "(1, 6, 8), target position 4 changed: outputs 0..3", narrow(before, 1, 0, 4),
                        narrow(after, 1, 0, 4));
  testing::expect_true(14, 2, "(1, 6, 8), target position 4 changed",
                       !allclose(narrow(before, 1, 4, 2), narrow(after, 1, 4, 2)),
                       "outputs 4 and 5 should see the change at position 4");
}

TEST_CASE("lesson 14, exercise 3: label-smoothed cross-entropy") {
  Generator gen(16);
  const int64_t ignore = 2;
  for (const auto& [n, classes] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 2}, {17, 3}, {5, 63}, {65, 17}}) {
    for (float e : {0.0f, 0.1f, 0.3f, 1.0f}) {
      const Tensor logits = randn({n, classes}, gen) * 3.0f;
      std::vector<float> ids;
      for (int64_t i = 0; i < n; ++i) ids.push_back(float(gen.randint(classes)));
      const Tensor target = from_vector(ids, {n});
      std::ostringstream input;
      input << "logits " << logits.shape() << ", smoothing " << e << ", ignore_index " << ignore
            << (classes > ignore ? " (some rows ignored)" : "");

      const nn::CrossEntropyLoss criterion({.ignore_index = ignore, .label_smoothing = e});
      Variable theirs(logits, true), mine(logits, true);
      Variable expected = criterion(theirs, target);
      Variable computed = lesson14::label_smoothed_cross_entropy(mine, target, e, ignore);
      testing::expect_true(14, 3, input.str(), computed.op() == "label_smoothed_cross_entropy",
                           "the loss should be made by your record(\"label_smoothed_cross_entropy\", ...), "
                           "not by '" +
                               computed.op() + "'");
      testing::expect_close(14, 3, input.str() + " (loss)", expected.value(), computed.value());
      expected.backward(scalar(0.7f));
      computed.backward(scalar(0.7f));  // an upstream gradient that is not 1
      testing::expect_close(14, 3, input.str() + " (d loss / d logits, upstream 0.7)", theirs.grad(),
                            mine.grad());
      testing::expect_gradcheck(14, 3, input.str(),
                                [&](const std::vector<Variable>& v) {
                                  return lesson14::label_smoothed_cross_entropy(v[0], target, e, ignore);
                                },
                                {logits});
    }
  }
  // Every row ignored: 0 and zero gradients, not NaN.
  {
    Variable logits(randn({3, 4}, gen), true);
    Variable loss = lesson14::label_smoothed_cross_entropy(logits, full({3}, 2.0f), 0.1f, 2);
    loss.backward();
    testing::expect_close(14, 3, "(3, 4), every target ignored (loss)", scalar(0.0f), loss.value());
    testing::expect_close(14, 3, "(3, 4), every target ignored (gradient)", zeros({3, 4}), logits.grad());
  }
  // Stability: logits near 1000 overflow exp unless each row's max comes off.
  const Tensor big = randn({4, 5}, gen) * 3.0f + 1000.0f, target = Tensor{0.0f, 4.0f, 2.0f, 1.0f};
  testing::expect_close(14, 3, "(4, 5) logits near 1000, smoothing 0.1",
                        nn::CrossEntropyLoss({.label_smoothing = 0.1f})(Variable(big), target).value(),
                        lesson14::label_smoothed_cross_entropy(Variable(big), target, 0.1f).value(), 1e-4);
}
