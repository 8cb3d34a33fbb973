// Lesson 11's exercises, graded against nn::sinusoidal_table, nn::rotary and
// nn::RelativePositions.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "lessons/11_positions/exercises.h"
#include "nn/attention/positions.h"
#include "nn/attention/rotary.h"
#include "tensor/random.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

TEST_CASE("lesson 11, exercise 1: the sinusoidal table") {
  struct Sizes {
    int64_t length, dim;
  };
  for (Sizes s :
       {Sizes{1, 2}, Sizes{3, 4}, Sizes{17, 6}, Sizes{63, 10}, Sizes{65, 2}, Sizes{5, 128}, Sizes{512, 64}}) {
    std::ostringstream input;
    input << "length " << s.length << ", dim " << s.dim;
    testing::expect_close(11, 1, input.str(), nn::sinusoidal_table(s.length, s.dim),
                          lesson11::sinusoidal_table(s.length, s.dim), 1e-5);
  }
}

TEST_CASE("lesson 11, exercise 3: rotary embedding of (B, H, T, Dh)") {
  Generator gen(11);
  struct Sizes {
    int64_t B, H, T, Dh, offset;
  };
  for (Sizes s : {Sizes{1, 1, 1, 2, 0}, Sizes{2, 3, 5, 4, 0}, Sizes{1, 2, 17, 6, 5}, Sizes{3, 1, 3, 64, 100},
                  Sizes{2, 2, 63, 8, 1}}) {
    std::ostringstream input;
    input << "x (" << s.B << ", " << s.H << ", " << s.T << ", " << s.Dh << "), offset " << s.offset;
    const Tensor x = randn({s.B, s.H, s.T, s.Dh}, gen), r = randn({s.B, s.H, s.T, s.Dh}, gen);
    Variable heeds_x(x, true), yours_x(x, true);
    Variable heeds = nn::rotary(heeds_x, s.offset);
    Variable yours = lesson11::apply_rotary(yours_x, s.offset);
    testing::expect_close(11, 3, input.str(), heeds.value(), yours.value(), 1e-5);
    sum(heeds * r).backward();
    sum(yours * r).backward();
    testing::expect_true(11, 3, input.str(), yours_x.grad().defined(),
                         "no gradient reached x: build the rotation from autograd ops on the Variable");
    if (yours_x.grad().defined())
      testing::expect_close(11, 3, input.str() + " (gradient)", heeds_x.grad(), yours_x.grad(), 1e-5);
  }
}

TEST_CASE("lesson 11, exercise 2: relative distance ids, clipped") {
  struct Sizes {
    int64_t T, S, offset, k;
  };
  for (Sizes s : {Sizes{1, 1, 0, 0}, Sizes{3, 3, 0, 1}, Sizes{17, 17, 0, 4}, Sizes{1, 9, 8, 3},
                  Sizes{4, 63, 59, 16}, Sizes{5, 7, 2, 0}, Sizes{6, 6, 0, 100}}) {
    std::ostringstream input;
    input << "T " << s.T << ", S " << s.S << ", offset " << s.offset << ", k " << s.k;
    // With head_dim 1, a key table holding 0, 1, .., 2k and queries of 1,
    // RelativePositions' key scores are exactly its distance ids.
    nn::RelativePositions relative({.max_distance = s.k, .head_dim = 1, .seed = 0});
    relative.keys.set_value(reshape(arange(2 * s.k + 1), {2 * s.k + 1, 1}));
    const Tensor heeds =
        reshape(relative.key_scores(ones({1, 1, s.T, 1}), s.S, s.offset).value(), {s.T, s.S});
    testing::expect_close(11, 2, input.str(), heeds, lesson11::relative_distance_ids(s.T, s.S, s.offset, s.k),
                          0);
  }
}
