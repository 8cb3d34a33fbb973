#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "lessons/17_vit/exercises.h"
#include "tensor/random.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

// Throws NotImplemented through; returns whether `f` threw a heed::Error.
template <class F>
bool throws_error(F f) {
  try {
    f();
  } catch (const NotImplemented&) {
    throw;
  } catch (const Error&) {
    return true;
  }
  return false;
}

// out[b][n][i p + j] = images[b][r p + i][c p + j], n = r (W / p) + c, by loops.
Tensor naive_patchify(const Tensor& images, int64_t p) {
  const int64_t B = images.size(0), H = images.size(1), W = images.size(2), gw = W / p, N = (H / p) * gw;
  Tensor out = zeros({B, N, p * p});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t i = 0; i < p; ++i)
        for (int64_t j = 0; j < p; ++j)
          out.at({b, n, i * p + j}) = images.at({b, (n / gw) * p + i, (n % gw) * p + j});
  return out;
}

}  // namespace

TEST_CASE("lesson 17, exercise 1: cutting images into patches") {
  Generator gen(17);
  struct Case {
    int64_t B, H, W, p;
  };
  for (const Case& c : {Case{1, 1, 1, 1}, Case{3, 3, 3, 1}, Case{2, 15, 10, 5}, Case{1, 17, 17, 17},
                        Case{2, 63, 63, 3}, Case{3, 16, 16, 4}, Case{1, 65, 5, 5}, Case{17, 6, 4, 2}}) {
    const Tensor images = randn({c.B, c.H, c.W}, gen);
    std::ostringstream input;
    input << "images " << images.shape() << ", patch " << c.p;
    testing::expect_close(17, 1, input.str(), naive_patchify(images, c.p), lesson17::patchify(images, c.p),
                          0.0);
  }
  // A transposed view reads like its contiguous copy.
  const Tensor view = transpose(randn({2, 10, 15}, gen), 1, 2);  // (2, 15, 10)
  testing::expect_close(17, 1, "a transposed (2, 15, 10) view, patch 5", naive_patchify(view, 5),
                        lesson17::patchify(view, 5), 0.0);
  testing::expect_true(17, 1, "images (16, 16)", throws_error([&] {
                         lesson17::patchify(zeros({16, 16}), 4);
                       }),
                       "expected a heed::Error for images that are not (B, H, W)");
  testing::expect_true(17, 1, "images (1, 16, 16), patch 0", throws_error([&] {
                         lesson17::patchify(zeros({1, 16, 16}), 0);
                       }),
                       "expected a heed::Error for a patch size below 1");
  testing::expect_true(17, 1, "images (1, 16, 15), patch 4", throws_error([&] {
                         lesson17::patchify(zeros({1, 16, 15}), 4);
                       }),
                       "expected a heed::Error when the patch does not divide the width");
  testing::expect_true(17, 1, "images (1, 10, 16), patch 4", throws_error([&] {
                         lesson17::patchify(zeros({1, 10, 16}), 4);
                       }),
                       "expected a heed::Error when the patch does not divide the height");
}

TEST_CASE("lesson 17, exercise 2: the patch embedding as one op") {
  Generator gen(18);
  struct Case {
    int64_t B, H, W, p, D;
  };
  for (const Case& c : {Case{1, 1, 1, 1, 1}, Case{2, 3, 3, 1, 2}, Case{3, 6, 4, 2, 5}, Case{1, 9, 9, 3, 4},
                        Case{2, 16, 16, 4, 3}, Case{1, 5, 15, 5, 2}}) {
    const Tensor images = randn({c.B, c.H, c.W}, gen), weight = randn({c.D, c.p * c.p}, gen),
                 bias = randn({c.D}, gen);
    std::ostringstream input;
    input << "images " << images.shape() << ", patch " << c.p << ", weight " << weight.shape();
    // heed's answer: a Linear on the patches cut by loops.
    const Variable expected =
        add(matmul(Variable(naive_patchify(images, c.p)), transpose(Variable(weight), 0, 1)), Variable(bias));
    const Variable computed =
        lesson17::patch_embedding(Variable(images, true), Variable(weight, true), Variable(bias, true), c.p);
    testing::expect_true(
        17, 2, input.str(), computed.op() == "patch_embedding",
        "the tokens should be made by your record(\"patch_embedding\", ...), not by '" + computed.op() + "'");
    testing::expect_close(17, 2, input.str(), expected.value(), computed.value(), 1e-5);
    testing::expect_gradcheck(
        17, 2, input.str() + " (d / d images, weight, bias)",
        [&](const std::vector<Variable>& v) { return lesson17::patch_embedding(v[0], v[1], v[2], c.p); },
        {images, weight, bias});
  }
  // A transposed view of the images reads like its copy.
  const Tensor view = transpose(randn({2, 4, 6}, gen), 1, 2), weight = randn({3, 4}, gen),
               bias = randn({3}, gen);
  testing::expect_close(
      17, 2, "a transposed (2, 6, 4) view, patch 2",
      lesson17::patch_embedding(Variable(contiguous(view)), Variable(weight), Variable(bias), 2).value(),
      lesson17::patch_embedding(Variable(view), Variable(weight), Variable(bias), 2).value(), 1e-6);
  const Variable images(randn({1, 8, 8}, gen));
  testing::expect_true(17, 2, "weight (3, 9) for patch 4", throws_error([&] {
                         lesson17::patch_embedding(images, Variable(zeros({3, 9})), Variable(zeros({3})), 4);
                       }),
                       "expected a heed::Error for a weight that is not (D, p*p)");
  testing::expect_true(17, 2, "bias (4,) for D 3", throws_error([&] {
                         lesson17::patch_embedding(images, Variable(zeros({3, 16})), Variable(zeros({4})), 4);
                       }),
                       "expected a heed::Error for a bias that is not (D,)");
  testing::expect_true(17, 2, "images (1, 8, 8), patch 3", throws_error([&] {
                         lesson17::patch_embedding(images, Variable(zeros({3, 9})), Variable(zeros({3})), 3);
                       }),
                       "expected a heed::Error when the patch does not divide the image");
}

TEST_CASE("lesson 17, exercise 3: the class token's attention as an image") {
  Generator gen(19);
  struct Case {
    int64_t B, H, gh, gw, p;
  };
  for (const Case& c : {Case{1, 1, 1, 1, 1}, Case{2, 3, 3, 5, 2}, Case{3, 4, 4, 4, 4}, Case{1, 2, 2, 3, 3},
                        Case{2, 1, 1, 17, 1}, Case{1, 5, 5, 1, 3}}) {
    const int64_t N = c.gh * c.gw, T = N + 1;
    Tensor weights = clone(softmax(randn({c.B, c.H, T, T}, gen) * 2.0f, -1));
    if (c.B > 1) {  // image 1: the class token attends only to itself in every head -> all zeros
      fill_(narrow(select(weights, 0, 1), 1, 0, 1), 0.0f);
      fill_(narrow(narrow(select(weights, 0, 1), 1, 0, 1), 2, 0, 1), 1.0f);
    }
    // heed's answer by loops.
    Tensor expected = zeros({c.B, c.gh * c.p, c.gw * c.p});
    for (int64_t b = 0; b < c.B; ++b) {
      std::vector<double> share(N, 0.0);
      double total = 0;
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t h = 0; h < c.H; ++h) share[n] += weights.at({b, h, 0, n + 1}) / double(c.H);
        total += share[n];
      }
      for (int64_t y = 0; y < c.gh * c.p; ++y)
        for (int64_t x = 0; x < c.gw * c.p; ++x) {
          const double v = share[(y / c.p) * c.gw + x / c.p];
          expected.at({b, y, x}) = total > 0 ? float(v / total) : 0.0f;
        }
    }
    std::ostringstream input;
    input << "weights " << weights.shape() << ", grid " << c.gh << " x " << c.gw << ", patch " << c.p;
    testing::expect_close(17, 3, input.str(), expected, lesson17::class_token_map(weights, c.gh, c.gw, c.p),
                          1e-5);
  }
  // A transposed view of the weights reads like its copy.
  const Tensor t = transpose(softmax(randn({2, 3, 5, 5}, gen), -1), 2, 3);
  testing::expect_close(17, 3, "a transposed (2, 3, 5, 5) view, grid 2 x 2, patch 2",
                        lesson17::class_token_map(contiguous(t), 2, 2, 2),
                        lesson17::class_token_map(t, 2, 2, 2), 1e-6);
  testing::expect_true(17, 3, "weights (1, 2, 17, 17) for a 3 x 3 grid", throws_error([&] {
                         lesson17::class_token_map(zeros({1, 2, 17, 17}), 3, 3, 4);
                       }),
                       "expected a heed::Error when N + 1 is not the weights' size");
  testing::expect_true(17, 3, "weights (2, 17, 17)", throws_error([&] {
                         lesson17::class_token_map(zeros({2, 17, 17}), 4, 4, 4);
                       }),
                       "expected a heed::Error for weights that are not (B, H, T, T)");
}
