#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "lessons/02_autograd/exercises.h"
#include "nn/linear.h"
#include "tensor/random.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

using Op = std::function<Variable(const std::vector<Variable>&)>;

std::string shapes_of(const std::vector<Tensor>& inputs) {
  std::ostringstream out;
  for (size_t i = 0; i < inputs.size(); ++i) out << (i ? ", " : "") << inputs[i].shape();
  return out.str();
}

// The learner's op against heed's on `inputs`: made by the learner's own
// record (its op name), the same forward, the same input gradients for one
// random d loss / d output, and a backward that passes gradcheck.
void grade_op(int exercise, const char* op_name, const Op& yours, const Op& heeds,
              const std::vector<Tensor>& inputs, double tolerance = 1e-5) {
  const std::string input = shapes_of(inputs);
  std::vector<Variable> mine, theirs;
  for (const Tensor& t : inputs) mine.emplace_back(t, true), theirs.emplace_back(t, true);
  Variable out_mine = yours(mine), out_heed = heeds(theirs);
  testing::expect_true(2, exercise, input, out_mine.defined() && out_mine.op() == op_name,
                       std::string("the output should be made by your record(\"") + op_name +
                           "\", ...), not by " +
                           (out_mine.defined() ? "'" + out_mine.op() + "'" : "nothing"));
  testing::expect_close(2, exercise, input + " (forward)", out_heed.value(),
                        out_mine.defined() ? out_mine.value() : Tensor(), tolerance);
  if (!out_mine.defined() || out_mine.shape() != out_heed.shape()) return;
  Generator gen(11);
  const Tensor g = randn(out_heed.shape(), gen);
  out_heed.backward(g);
  out_mine.backward(g);
  for (size_t i = 0; i < inputs.size(); ++i)
    testing::expect_close(2, exercise, input + " (d loss / d input " + std::to_string(i) + ")",
                          theirs[i].grad(), mine[i].grad(), 1e-4);
  testing::expect_gradcheck(2, exercise, input, yours, inputs);
}

Tensor logsumexp_in_double(const Tensor& x) {
  const int64_t d = x.size(-1), rows = x.numel() / d;
  Shape shape = x.shape();
  shape.pop_back();
  std::vector<float> out(rows);
  const std::vector<float> v = x.to_vector();
  for (int64_t r = 0; r < rows; ++r) {
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < d; ++j) m = std::fmax(m, double(v[r * d + j]));
    for (int64_t j = 0; j < d; ++j) s += std::exp(double(v[r * d + j]) - m);
    out[r] = float(m + std::log(s));
  }
  return from_vector(out, shape);
}

}  // namespace

TEST_CASE("lesson 02, exercise 1: softmax along the last dim") {
  Generator gen(1);
  const Op yours = [](const std::vector<Variable>& v) { return lesson02::softmax_last(v[0]); };
  const Op heeds = [](const std::vector<Variable>& v) { return softmax(v[0], -1); };
  for (const Shape& shape : {Shape{1}, Shape{3}, Shape{17}, Shape{2, 3, 5}, Shape{3, 63}, Shape{1, 65}})
    grade_op(1, "softmax_last", yours, heeds, {randn(shape, gen) * 2.0f});
  // A transposed (non-contiguous) input: the last dim is the one with stride != 1.
  grade_op(1, "softmax_last", yours, heeds, {transpose(randn({5, 4}, gen), 0, 1)});
  // Large logits: exp(1000) overflows float; subtracting the row max does not.
  const Tensor big = randn({3, 7}, gen) + 1000.0f;
  testing::expect_close(1, 1, "(3, 7) logits near 1000", softmax(big, -1),
                        lesson02::softmax_last(big).value());
}

TEST_CASE("lesson 02, exercise 2: logsumexp along the last dim") {
  Generator gen(2);
  const Op yours = [](const std::vector<Variable>& v) { return lesson02::logsumexp_last(v[0]); };
  const Op heeds = [](const std::vector<Variable>& v) { return log(sum(exp(v[0]), {-1})); };
  for (const Shape& shape : {Shape{1}, Shape{17}, Shape{3, 1}, Shape{2, 3, 5}, Shape{4, 63}, Shape{2, 65}})
    grade_op(2, "logsumexp_last", yours, heeds, {randn(shape, gen) * 2.0f});
  for (float shift : {1000.0f, -1000.0f}) {
    const Tensor big = randn({3, 17}, gen) + shift;
    std::ostringstream input;
    input << "(3, 17) values near " << shift;
    // Relative to ~1000: float keeps about 1e-4 of absolute precision there.
    testing::expect_close(2, 2, input.str(), logsumexp_in_double(big), lesson02::logsumexp_last(big).value(),
                          1e-6);
    Variable x(big, true);
    lesson02::logsumexp_last(x).backward(ones({3}));
    testing::expect_close(2, 2, input.str() + " (gradient = softmax)", softmax(big, -1), x.grad());
  }
}

TEST_CASE("lesson 02, exercise 3: affine map (matmul and bias backward)") {
  Generator gen(3);
  const Op yours = [](const std::vector<Variable>& v) { return lesson02::affine(v[0], v[1], v[2]); };
  const Op heeds = [](const std::vector<Variable>& v) { return nn::linear(v[0], v[1], v[2]); };
  for (const auto& [n, i, o] :
       std::vector<std::array<int64_t, 3>>{{1, 1, 1}, {3, 5, 2}, {17, 3, 1}, {1, 17, 63}, {65, 3, 5}})
    grade_op(3, "affine", yours, heeds, {randn({n, i}, gen), randn({o, i}, gen), randn({o}, gen)}, 1e-4);
  // A transposed x and w, as views: the backward must not care.
  grade_op(3, "affine", yours, heeds,
           {transpose(randn({4, 6}, gen), 0, 1), transpose(randn({4, 3}, gen), 0, 1), randn({3}, gen)}, 1e-4);
  std::string message;
  try {
    lesson02::affine(Variable(zeros({2, 3})), Variable(zeros({4, 5})), Variable(zeros({4})));
  } catch (const NotImplemented&) {
    throw;
  } catch (const Error& e) {
    message = e.what();
  }
  testing::expect_true(
      3, 3, "x (2, 3), w (4, 5), b (4,)",
      message.find("(2, 3)") != std::string::npos && message.find("(4, 5)") != std::string::npos,
      "expected a heed::Error naming the shapes (2, 3) and (4, 5); got: '" + message + "'");
}
