#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "lessons/01_tensors/exercises.h"
#include "lessons/common/exercise.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

std::string describe(const Tensor& t) {
  std::ostringstream out;
  out << "shape " << t.shape() << " strides " << t.strides() << " offset " << t.offset();
  return out.str();
}

// Views of every kind, over random data so no element is where it might be by luck.
std::vector<Tensor> views() {
  Generator gen(1);
  Tensor a = randn({2, 3, 4}, gen), b = randn({17, 5}, gen), c = randn({1, 63}, gen);
  return {
      a,
      transpose(a, 0, 2),
      permute(a, {1, 2, 0}),
      slice(a, 2, 1, 4, 2),                  // a step along the last dim
      select(slice(a, 1, 2, 3), 0, 1),       // an offset
      narrow(transpose(b, 0, 1), 1, 3, 11),  // offset and transposed
      slice(b, 0, 0, 17, 5),
      expand(c, {3, 63}),  // stride 0
      expand(reshape(b, {17, 1, 5}), {17, 3, 5}),
      scalar(2.5f),
      select(select(b, 0, 16), 0, 4),  // a 0-dim view with an offset
      zeros({3, 0, 2}),
      transpose(zeros({0, 4}), 0, 1),
  };
}

std::string shapes(const Shape& a, const Shape& b) {
  std::ostringstream out;
  out << a << " with " << b;
  return out.str();
}

}  // namespace

TEST_CASE("lesson 01, exercise 1: contiguous strides") {
  for (Shape shape : {Shape{}, Shape{5}, Shape{2, 3, 4}, Shape{3, 0, 2}, Shape{1, 17, 1, 3}, Shape{65, 63}}) {
    std::ostringstream input;
    input << shape;
    testing::expect_true(1, 1, input.str(), lesson01::contiguous_strides(shape) == zeros(shape).strides(),
                         "strides differ from a contiguous tensor's");
  }
}

TEST_CASE("lesson 01, exercise 2: to_contiguous reads any view through its strides") {
  for (const Tensor& t : views()) {
    const Tensor mine = lesson01::to_contiguous(t);
    testing::expect_close(1, 2, describe(t), contiguous(t), mine, 0);
    testing::expect_true(1, 2, describe(t), !mine.defined() || mine.is_contiguous(),
                         "the result is not contiguous");
  }
  // A fresh copy: writing it leaves the view's storage alone.
  Tensor x = reshape(arange(6), {2, 3});
  Tensor mine = lesson01::to_contiguous(transpose(x, 0, 1));
  if (mine.numel() == 6) mine.at({0, 0}) = 99;
  testing::expect_true(1, 2, "transpose of (2, 3)", x.at({0, 0}) == 0,
                       "the result shares the input's storage");
}

TEST_CASE("lesson 01, exercise 3: broadcast shape") {
  const std::vector<std::vector<Shape>> good = {
      {{3, 1}, {4}, {3, 4}},
      {{2, 1, 3}, {4, 1}, {2, 4, 3}},
      {{5}, {}, {5}},
      {{}, {}, {}},
      {{1}, {0}, {0}},
      {{8, 1, 6, 1}, {7, 1, 5}, {8, 7, 6, 5}},
      {{17, 1}, {1, 63}, {17, 63}},
      {{1, 1, 1}, {65}, {1, 1, 65}},
  };
  for (const auto& c : good) {
    testing::expect_true(
        1, 3, shapes(c[0], c[1]), lesson01::broadcast_shape(c[0], c[1]) == c[2],
        "expected " + to_string(c[2]) + ", computed " + to_string(lesson01::broadcast_shape(c[0], c[1])));
    testing::expect_true(1, 3, shapes(c[1], c[0]), lesson01::broadcast_shape(c[1], c[0]) == c[2],
                         "broadcasting is symmetric: expected " + to_string(c[2]));
  }
  const std::vector<std::pair<Shape, Shape>> bad = {
      {{2, 3}, {4}}, {{3}, {4}}, {{2, 1}, {8, 4, 3}}, {{0}, {2}}};
  for (const auto& [a, b] : bad) {
    std::string message;
    try {
      lesson01::broadcast_shape(a, b);
    } catch (const NotImplemented&) {
      throw;
    } catch (const Error& e) {
      message = e.what();
    }
    testing::expect_true(1, 3, shapes(a, b), !message.empty(), "expected a heed::Error, nothing was thrown");
    testing::expect_true(1, 3, shapes(a, b),
                         message.empty() || (message.find(to_string(a)) != std::string::npos &&
                                             message.find(to_string(b)) != std::string::npos),
                         "the error should name both shapes, as " + to_string(a) + " and " + to_string(b) +
                             "; it says: " + message);
  }
}

TEST_CASE("lesson 01, exercise 4: add_broadcast through strides") {
  Generator gen(2);
  const std::vector<std::pair<Tensor, Tensor>> cases = {
      {randn({3, 1}, gen), randn({4}, gen)},
      {randn({2, 1, 3}, gen), randn({4, 1}, gen)},
      {randn({17, 1}, gen), randn({1, 63}, gen)},
      {randn({65}, gen), scalar(3.0f)},
      {scalar(1.0f), scalar(2.0f)},
      {transpose(randn({5, 3}, gen), 0, 1), slice(randn({1, 10}, gen), 1, 0, 10, 2)},
      {expand(randn({1, 4}, gen), {3, 4}),
       unsqueeze(select(randn({3, 2}, gen), 1, 1), 1)},  // (3, 1), stride 2
      {narrow(randn({6, 7}, gen), 0, 2, 3), randn({1}, gen)},
      {zeros({0, 3}), randn({3}, gen)},
  };
  for (const auto& [a, b] : cases)
    testing::expect_close(1, 4, describe(a) + " + " + describe(b), a + b, lesson01::add_broadcast(a, b),
                          1e-6);
  std::string message;
  try {
    lesson01::add_broadcast(zeros({2, 3}), zeros({4}));
  } catch (const NotImplemented&) {
    throw;
  } catch (const Error& e) {
    message = e.what();
  }
  testing::expect_true(1, 4, "(2, 3) + (4,)", !message.empty(),
                       "expected a heed::Error for shapes that do not broadcast");
}
