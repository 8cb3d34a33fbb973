// Your answers to lesson 11's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/11_positions/exercises.h"

#include "lessons/common/exercise.h"

namespace heed::lesson11 {

Tensor sinusoidal_table(int64_t length, int64_t dim) {
  (void)length, (void)dim;
  course::not_implemented(11, 1,
                          "two loops, positions and pairs: sin at 2i, cos at 2i + 1, of p / 10000^(2i/dim); "
                          "see section 2 of lesson.cpp");
}

Variable apply_rotary(const Variable& x, int64_t offset) {
  (void)x, (void)offset;
  course::not_implemented(11, 3,
                          "cos and sin tables (T, Dh/2); even and odd dims as slices with step 2; turn them; "
                          "stack on a new last dim and reshape back; see section 5 of lesson.cpp");
}

Tensor relative_distance_ids(int64_t T, int64_t S, int64_t offset, int64_t k) {
  (void)T, (void)S, (void)offset, (void)k;
  course::not_implemented(11, 2, "clip j - (offset + i) to [-k, k], then add k; see section 4 of lesson.cpp");
}

}  // namespace heed::lesson11
