// Your answers to lesson 03's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass. For exercise 3 you may
// include tensor/kernels/simd.h, heed's vector types, as the lesson does.
#include "lessons/03_kernels/exercises.h"

#include "lessons/common/exercise.h"

namespace heed::lesson03 {

void matmul_blocked(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n,
                    Blocks blocks) {
  (void)a, (void)b, (void)c, (void)m, (void)k, (void)n, (void)blocks;
  course::not_implemented(3, 1,
                          "three block loops (j by nc, k by kc, i by mc) around section 3's i-k-j loops, "
                          "each block cut short at the edge with std::min; see section 4 of lesson.cpp");
}

void micro_kernel_4x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int rows,
                       int cols) {
  (void)kc, (void)a, (void)b, (void)c, (void)ldc, (void)rows, (void)cols;
  course::not_implemented(3, 2,
                          "section 6's micro-kernel with 4 rows, A read from its packed panel, and a "
                          "scratch tile for the edges; see section 6 of lesson.cpp");
}

void matmul_packed(const float* a, const float* b, float* c, int64_t m, int64_t k, int64_t n) {
  (void)a, (void)b, (void)c, (void)m, (void)k, (void)n;
  course::not_implemented(3, 3,
                          "section 5's packing for both operands (zero-padded panels), then your "
                          "micro_kernel_4x16 on every tile; see sections 5 and 6 of lesson.cpp");
}

void softmax_row_online(const float* x, float* y, int64_t n) {
  (void)x, (void)y, (void)n;
  course::not_implemented(3, 4,
                          "m = max(m, x_j); s = s * exp(m_old - m) + exp(x_j - m); then y = exp(x - m) / s; "
                          "see section 9 of lesson.cpp");
}

}  // namespace heed::lesson03
