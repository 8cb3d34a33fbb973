// nn layers (nn/linear.h, embedding.h, layer_norm.h, dropout.h, activation.h,
// sequential.h, loss.h): shapes, values, gradcheck of every input and
// parameter, describe() strings and error messages.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "layer_check.h"
#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/sequential.h"

using namespace heed;
using heed::testing::gradcheck_layer;

namespace {

std::vector<std::string> names_of(const nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, p] : m.named_parameters()) names.push_back(name);
  return names;
}

}  // namespace

// ------------------------------------------------------------- Linear
TEST_CASE("Linear stores weight (out, in) as PyTorch and maps (..., in) to (..., out)") {
  nn::Linear fc({.in_features = 4, .out_features = 3});
  CHECK(fc.weight.shape() == Shape{3, 4});
  CHECK(fc.bias.shape() == Shape{3});
  CHECK(names_of(fc) == std::vector<std::string>{"weight", "bias"});
  Generator gen(1);
  CHECK(fc.forward(randn({2, 4}, gen)).shape() == Shape{2, 3});
  CHECK(fc.forward(randn({2, 5, 4}, gen)).shape() == Shape{2, 5, 3});
  CHECK(fc.forward(randn({4}, gen)).shape() == Shape{3});
}

TEST_CASE("Linear computes x W^T + b") {
  nn::Linear fc({.in_features = 2, .out_features = 3});
  fc.weight.set_value(Tensor{{1, 2}, {3, 4}, {5, 6}});
  fc.bias.set_value(Tensor{0.5f, -1, 2});
  Tensor y = fc.forward(Tensor{{1, -1}, {2, 0.5f}}).value();
  CHECK(equal(y, Tensor{{-0.5f, -2, 1}, {3.5f, 7, 15}}));
}

TEST_CASE("Linear without bias holds only a weight") {
  nn::Linear fc({.in_features = 2, .out_features = 3, .bias = false});
  CHECK_FALSE(fc.bias.defined());
  CHECK(names_of(fc) == std::vector<std::string>{"weight"});
  fc.weight.set_value(Tensor{{1, 2}, {3, 4}, {5, 6}});
  CHECK(equal(fc.forward(Tensor{{1, 1}}).value(), Tensor{{3, 7, 11}}));
}

TEST_CASE("Linear starts as PyTorch: weight and bias ~ U(-1/sqrt(in), 1/sqrt(in)), fixed by the seed") {
  nn::Linear a({.in_features = 16, .out_features = 32, .seed = 3}),
      b({.in_features = 16, .out_features = 32, .seed = 3}),
      c({.in_features = 16, .out_features = 32, .seed = 4});
  CHECK(equal(a.weight.value(), b.weight.value()));
  CHECK_FALSE(equal(a.weight.value(), c.weight.value()));
  for (const Variable& p : a.parameters())
    for (float v : p.value().to_vector()) CHECK(std::fabs(v) <= 0.25f);
  // One Generator shared by two layers gives them different weights.
  Generator gen(0);
  nn::Linear d({.in_features = 16, .out_features = 32}, gen), e({.in_features = 16, .out_features = 32}, gen);
  CHECK_FALSE(equal(d.weight.value(), e.weight.value()));
}

TEST_CASE("Linear passes gradcheck for its input, weight and bias, on 2-D and 3-D inputs") {
  nn::Linear fc({.in_features = 4, .out_features = 3, .seed = 1});
  Generator gen(2);
  for (Shape shape : {Shape{2, 4}, Shape{2, 3, 4}}) {
    CHECK(gradcheck_layer({&fc.weight, &fc.bias}, [&](const auto& v) { return fc.forward(v[0]); },
                          {randn(shape, gen)}));
  }
  nn::Linear no_bias({.in_features = 4, .out_features = 3, .bias = false});
  CHECK(gradcheck_layer({&no_bias.weight}, [&](const auto& v) { return no_bias.forward(v[0]); },
                        {randn({2, 4}, gen)}));
}

TEST_CASE("Linear given the wrong input size names the layer and both sizes") {
  nn::Linear fc({.in_features = 4, .out_features = 3});
  CHECK_THROWS_WITH_AS(
      fc.forward(zeros({2, 5})),
      "Linear(in_features=4, out_features=3, bias=true): expected input (..., 4), got (2, 5)", Error);
  CHECK_THROWS_WITH_AS(
      nn::Linear({.in_features = 0, .out_features = 3}),
      "Linear: in_features and out_features must be positive, got in_features=0, out_features=3", Error);
}

// ------------------------------------------------------------- Embedding
TEST_CASE("Embedding looks up one row per id: ids (B, T) -> (B, T, dim)") {
  nn::Embedding emb({.num_embeddings = 5, .embedding_dim = 3});
  CHECK(emb.weight.shape() == Shape{5, 3});
  Tensor ids{{4, 0, 4}, {1, 2, 3}};
  Tensor out = emb.forward(ids).value();
  REQUIRE(out.shape() == Shape{2, 3, 3});
  CHECK(equal(select(select(out, 0, 0), 0, 0), select(emb.weight.value(), 0, 4)));
  CHECK(equal(select(select(out, 0, 1), 0, 2), select(emb.weight.value(), 0, 3)));
}

TEST_CASE("Embedding passes gradcheck with repeated ids, which sum their gradients") {
  nn::Embedding emb({.num_embeddings = 4, .embedding_dim = 3, .seed = 1});
  Tensor ids{{1, 3, 1}, {1, 0, 3}};
  CHECK(gradcheck_layer({&emb.weight}, [&](const auto&) { return emb.forward(ids); }, {}));
  emb.forward(ids).backward(ones({2, 3, 3}));
  CHECK(equal(emb.weight.grad(), Tensor{{1, 1, 1}, {3, 3, 3}, {0, 0, 0}, {2, 2, 2}}));
}

TEST_CASE("Embedding's padding_idx row starts at zero and never receives a gradient") {
  nn::Embedding emb({.num_embeddings = 4, .embedding_dim = 3, .padding_idx = 0});
  CHECK(equal(select(emb.weight.value(), 0, 0), zeros({3})));
  Tensor ids{{0, 2, 0, 1}};
  emb.forward(ids).backward(ones({1, 4, 3}));
  CHECK(equal(emb.weight.grad(), Tensor{{0, 0, 0}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}}));
  CHECK(equal(select(emb.forward(ids).value(), 1, 0), zeros({1, 3})));
}

TEST_CASE("Embedding rejects an id outside the table and a padding_idx outside it") {
  nn::Embedding emb({.num_embeddings = 4, .embedding_dim = 3});
  CHECK_THROWS_AS(emb.forward(Tensor{1, 4}), Error);
  CHECK_THROWS_WITH_AS(nn::Embedding({.num_embeddings = 4, .embedding_dim = 3, .padding_idx = 4}),
                       "Embedding: padding_idx 4 is not a row of 4 (use -1 for none)", Error);
}

TEST_CASE("Embedding refuses a table whose num * dim passes 2^63 - 1 instead of reading past a wrapped one") {
  // (2^62 + 1) * 4 wrapped to 4 floats: a lookup of row 1 read past them.
  CHECK_THROWS_WITH_AS(nn::Embedding({.num_embeddings = (int64_t{1} << 62) + 1, .embedding_dim = 4}),
                       doctest::Contains("randn: shape (4611686018427387905, 4) has too many elements"),
                       Error);
}

// ------------------------------------------------------------- LayerNorm
TEST_CASE("LayerNorm starts as the plain normalization: each row has mean 0 and variance 1") {
  nn::LayerNorm norm({.normalized_shape = 8});
  CHECK(equal(norm.weight.value(), ones({8})));
  CHECK(equal(norm.bias.value(), zeros({8})));
  Generator gen(5);
  Tensor y = norm.forward(normal({2, 3, 8}, 3.0f, 2.0f, gen)).value();
  CHECK(allclose(mean(y, {-1}), zeros({2, 3}), 0.0f, 1e-5f));
  CHECK(allclose(var(y, {-1}, /*unbiased=*/false), ones({2, 3}), 0.0f, 1e-3f));
}

TEST_CASE("LayerNorm passes gradcheck for its input, weight and bias") {
  nn::LayerNorm norm({.normalized_shape = 5});
  Generator gen(6);
  norm.weight.set_value(uniform({5}, 0.5f, 1.5f, gen));
  norm.bias.set_value(randn({5}, gen));
  CHECK(gradcheck_layer({&norm.weight, &norm.bias}, [&](const auto& v) { return norm.forward(v[0]); },
                        {randn({2, 3, 5}, gen)}));
}

TEST_CASE("LayerNorm given the wrong last dim names the layer and both sizes") {
  nn::LayerNorm norm({.normalized_shape = 8});
  CHECK_THROWS_WITH_AS(norm.forward(zeros({2, 4})),
                       "LayerNorm(normalized_shape=8, eps=1e-05): expected input (..., 8), got (2, 4)",
                       Error);
}

// ------------------------------------------------------------- Dropout
TEST_CASE("Dropout in training zeros about p of the elements and scales the rest by 1 / (1 - p)") {
  nn::Dropout drop({.p = 0.25f, .seed = 7});
  Tensor x = full({100, 100}, 2.0f);
  int zeros_seen = 0, scaled = 0;
  for (float v : drop.forward(x).value().to_vector()) {
    zeros_seen += v == 0.0f;
    scaled += v == 2.0f * (1.0f / 0.75f);
  }
  CHECK(zeros_seen + scaled == 10000);
  CHECK(zeros_seen > 2300);  // 2500 expected; the binomial sd is 43
  CHECK(zeros_seen < 2700);
}

TEST_CASE("Dropout with the same seed draws the same masks; two draws differ") {
  nn::Dropout a({.p = 0.5f, .seed = 11}), b({.p = 0.5f, .seed = 11});
  Tensor x = ones({4, 8});
  Tensor first = a.forward(x).value();
  CHECK(equal(first, b.forward(x).value()));
  CHECK_FALSE(equal(first, a.forward(x).value()));
}

TEST_CASE("Dropout in eval mode is the identity") {
  nn::Dropout drop({.p = 0.5f});
  drop.eval();
  Generator gen(3);
  Tensor x = randn({3, 4}, gen);
  CHECK(equal(drop.forward(x).value(), x));
  drop.train();
  CHECK_FALSE(equal(drop.forward(x).value(), x));
}

TEST_CASE("Dropout passes gradcheck in training (one fixed mask) and in eval") {
  Generator gen(4);
  for (bool training : {true, false}) {
    CHECK(gradcheck(
        [&](const std::vector<Variable>& v) {
          nn::Dropout drop({.p = 0.4f, .seed = 9});  // a fresh layer per call: the same mask every time
          drop.train(training);
          return drop.forward(v[0]);
        },
        {randn({3, 5}, gen)}));
  }
}

TEST_CASE("Dropout rejects p outside [0, 1]") {
  CHECK_THROWS_WITH_AS(nn::Dropout({.p = 1.5f}), "Dropout: p must be in [0, 1], got 1.5", Error);
}

// ------------------------------------------------------------- activations
TEST_CASE("Activations apply their function elementwise") {
  Tensor x{-2.0f, -0.5f, 0.5f, 3.0f};
  CHECK(equal(nn::ReLU().forward(x).value(), Tensor{0, 0, 0.5f, 3}));
  CHECK(
      allclose(nn::Tanh().forward(x).value(), Tensor{-0.96402758f, -0.46211716f, 0.46211716f, 0.99505475f}));
  CHECK(
      allclose(nn::Sigmoid().forward(x).value(), Tensor{0.11920292f, 0.37754067f, 0.62245933f, 0.95257413f}));
  // GELU, tanh form: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
  CHECK(
      allclose(nn::GELU().forward(x).value(), Tensor{-0.04540231f, -0.15428599f, 0.34571401f, 2.99636306f}));
  // ELU: alpha (e^x - 1) below 0.
  CHECK(allclose(nn::ELU().forward(x).value(), Tensor{-0.86466472f, -0.39346934f, 0.5f, 3.0f}));
  CHECK(allclose(nn::ELU(2.0f).forward(x).value(), Tensor{-1.72932943f, -0.78693868f, 0.5f, 3.0f}));
}

TEST_CASE("Activations pass gradcheck") {
  Generator gen(8);
  Tensor x = randn({3, 4}, gen);
  x = where(lt(abs(x), full({3, 4}, 0.05f)), full({3, 4}, 0.5f), x);  // keep relu's kink out of eps's reach
  std::vector<std::shared_ptr<nn::UnaryModule>> acts{
      std::make_shared<nn::ReLU>(), std::make_shared<nn::GELU>(), std::make_shared<nn::Tanh>(),
      std::make_shared<nn::Sigmoid>(), std::make_shared<nn::ELU>(0.7f)};
  for (const auto& act : acts) {
    CAPTURE(act->describe());
    CHECK(gradcheck([&](const std::vector<Variable>& v) { return act->forward(v[0]); }, {x}));
  }
}

// ------------------------------------------------------------- Sequential
TEST_CASE("Sequential registers its modules as \"0\", \"1\", ... like PyTorch") {
  nn::Sequential mlp({std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 2, .out_features = 4}),
                      std::make_shared<nn::ReLU>(),
                      std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 4, .out_features = 3})});
  CHECK(mlp.size() == 3);
  CHECK(names_of(mlp) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(mlp[1].describe() == "ReLU()");
  auto fc =
      mlp.push_back(std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 3, .out_features = 1}));
  CHECK(fc->options().out_features == 1);
  CHECK(mlp.children().back().first == "3");
  CHECK_THROWS_WITH_AS(mlp[4], "Sequential: index 4 out of range for 4 modules", Error);
}

TEST_CASE("Sequential feeds each module the previous one's output, and passes gradcheck") {
  auto fc1 = std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 3, .out_features = 4, .seed = 1});
  auto fc2 = std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 4, .out_features = 2, .seed = 2});
  nn::Sequential mlp({fc1, std::make_shared<nn::Tanh>(), fc2});
  Generator gen(9);
  Tensor x = randn({5, 3}, gen);
  CHECK(equal(mlp.forward(x).value(), fc2->forward(tanh(fc1->forward(x))).value()));
  CHECK(gradcheck_layer({&fc1->weight, &fc1->bias, &fc2->weight, &fc2->bias},
                        [&](const auto& v) { return mlp.forward(v[0]); }, {x}));
}

TEST_CASE("Sequential takes layers built in place, as PyTorch's Sequential(Linear(2, 16), Tanh(), ...)") {
  nn::Sequential mlp(nn::Linear({.in_features = 2, .out_features = 16, .seed = 1}), nn::Tanh(),
                     nn::Linear({.in_features = 16, .out_features = 2, .seed = 2}));
  CHECK(mlp.size() == 3);
  CHECK(names_of(mlp) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(mlp[1].describe() == "Tanh()");

  // The layers moved in hold the weights they were built with.
  nn::Linear fc1({.in_features = 2, .out_features = 16, .seed = 1}),
      fc2({.in_features = 16, .out_features = 2, .seed = 2});
  Generator gen(3);
  Tensor x = randn({5, 2}, gen);
  CHECK(equal(mlp.forward(x).value(), fc2.forward(tanh(fc1.forward(x))).value()));
}

TEST_CASE("Sequential mixes layers built in place with shared layers the caller keeps") {
  auto head = std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = 4, .out_features = 1});
  nn::Sequential mlp(nn::Linear({.in_features = 3, .out_features = 4}), nn::ReLU(), head,
                     nn::Sequential(nn::Sigmoid()));
  CHECK(mlp.size() == 4);
  CHECK(mlp.named_parameters()[2].second.impl() == head->weight.impl());
  CHECK(mlp[3].describe() == "Sequential(size=1)");
  CHECK(mlp.forward(zeros({2, 3})).shape() == Shape{2, 1});
}

TEST_CASE("a moved layer carries its parameters; the one moved from is left empty") {
  nn::Linear a({.in_features = 3, .out_features = 2, .seed = 4});
  Tensor weight = a.weight.value();
  nn::Linear b(std::move(a));
  CHECK(b.weight.value().data() == weight.data());
  CHECK(b.parameters().size() == 2);
  CHECK(b.named_parameters()[0].second.impl() == b.weight.impl());
  CHECK(a.parameters().empty());  // NOLINT(bugprone-use-after-move): what a move leaves is specified here
}

TEST_CASE("Sequential's train() and eval() reach the modules inside") {
  auto drop = std::make_shared<nn::Dropout>(nn::DropoutOptions{.p = 0.5f});
  nn::Sequential seq({std::make_shared<nn::ReLU>(), drop});
  seq.eval();
  CHECK_FALSE(drop->is_training());
  seq.train();
  CHECK(drop->is_training());
}

// ------------------------------------------------------------- describe
TEST_CASE("Every layer describes itself with its options") {
  CHECK(nn::Linear({.in_features = 4, .out_features = 3}).describe() ==
        "Linear(in_features=4, out_features=3, bias=true)");
  CHECK(nn::Linear({.in_features = 4, .out_features = 3, .bias = false}).describe() ==
        "Linear(in_features=4, out_features=3, bias=false)");
  CHECK(nn::Embedding({.num_embeddings = 10, .embedding_dim = 4}).describe() ==
        "Embedding(num_embeddings=10, embedding_dim=4)");
  CHECK(nn::Embedding({.num_embeddings = 10, .embedding_dim = 4, .padding_idx = 0}).describe() ==
        "Embedding(num_embeddings=10, embedding_dim=4, padding_idx=0)");
  CHECK(nn::LayerNorm({.normalized_shape = 8}).describe() == "LayerNorm(normalized_shape=8, eps=1e-05)");
  CHECK(nn::Dropout({.p = 0.1f}).describe() == "Dropout(p=0.1)");
  CHECK(nn::ReLU().describe() == "ReLU()");
  CHECK(nn::GELU().describe() == "GELU(approximate=tanh)");
  CHECK(nn::Tanh().describe() == "Tanh()");
  CHECK(nn::Sigmoid().describe() == "Sigmoid()");
  CHECK(nn::ELU(0.5f).describe() == "ELU(alpha=0.5)");
  CHECK(nn::Sequential({std::make_shared<nn::ReLU>()}).describe() == "Sequential(size=1)");
  CHECK(nn::CrossEntropyLoss({.label_smoothing = 0.1f}).describe() ==
        "CrossEntropyLoss(ignore_index=-100, label_smoothing=0.1, reduction=mean)");
  CHECK(nn::NLLLoss({.reduction = Reduction::sum}).describe() == "NLLLoss(ignore_index=-100, reduction=sum)");
  CHECK(nn::MSELoss().describe() == "MSELoss(reduction=mean)");
}

// ------------------------------------------------------------- losses
TEST_CASE("CrossEntropyLoss takes (B, T, C) logits with (B, T) targets: the same as autograd's on rows") {
  Generator gen(10);
  Tensor logits = randn({2, 3, 5}, gen);
  Tensor target{{1, 4, 0}, {2, 2, 3}};
  Tensor rows = reshape(logits, {6, 5}), flat = reshape(target, {6});
  nn::CrossEntropyLoss plain;
  CHECK(equal(plain(logits, target).value(), cross_entropy(rows, flat).value()));
  nn::CrossEntropyLoss smoothed({.ignore_index = 2, .label_smoothing = 0.1f, .reduction = Reduction::sum});
  CHECK(equal(smoothed(logits, target).value(), cross_entropy(rows, flat, 2, 0.1f, Reduction::sum).value()));
  nn::CrossEntropyLoss per_token({.reduction = Reduction::none});
  Tensor each = per_token(logits, target).value();
  CHECK(each.shape() == Shape{2, 3});
  CHECK(equal(reshape(each, {6}), cross_entropy(rows, flat, -100, 0.0f, Reduction::none).value()));
}

TEST_CASE("CrossEntropyLoss ignores ignore_index targets and passes gradcheck") {
  Generator gen(11);
  Tensor target{{1, 0, 3}, {0, 2, 0}};
  nn::CrossEntropyLoss criterion({.ignore_index = 0, .label_smoothing = 0.2f});
  CHECK(gradcheck([&](const std::vector<Variable>& v) { return criterion(v[0], target); },
                  {randn({2, 3, 4}, gen)}));
  Variable logits(randn({2, 3, 4}, gen), true);
  criterion(logits, target).backward();
  CHECK(equal(select(select(logits.grad(), 0, 1), 0, 0), zeros({4})));
}

TEST_CASE("CrossEntropyLoss given mismatched shapes names both") {
  nn::CrossEntropyLoss criterion;
  CHECK_THROWS_WITH_AS(criterion(zeros({2, 3, 5}), zeros({2, 4})),
                       "CrossEntropyLoss: scores (2, 3, 5) need a target of shape (2, 3), got (2, 4)", Error);
}

TEST_CASE("NLLLoss of log_softmax equals CrossEntropyLoss") {
  Generator gen(12);
  Tensor logits = randn({2, 3, 5}, gen);
  Tensor target{{1, 4, 0}, {2, 2, 3}};
  float nll = nn::NLLLoss()(log_softmax(logits, -1), target).item();
  CHECK(nll == doctest::Approx(nn::CrossEntropyLoss()(logits, target).item()).epsilon(1e-6));
}

TEST_CASE("MSELoss is the mean of squared differences and passes gradcheck") {
  Tensor a{{1, 2}, {3, 4}}, b{{0, 2}, {5, 4}};
  CHECK(nn::MSELoss()(a, b).item() == doctest::Approx(1.25));
  CHECK(nn::MSELoss({.reduction = Reduction::sum})(a, b).item() == doctest::Approx(5.0));
  CHECK(gradcheck([](const std::vector<Variable>& v) { return nn::MSELoss()(v[0], v[1]); }, {a, b}));
  CHECK_THROWS_WITH_AS(nn::MSELoss()(a, zeros({2})), "MSELoss: input (2, 2) and target (2,) differ in shape",
                       Error);
}
