// sgemm is held to its plain-loop twin sgemm_naive, for every transposition,
// edge size and leading dimension; its scalar back end to its vector one; and
// its bits to themselves across thread counts.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <vector>

#include "tensor/kernels/parallel.h"
#include "tensor/kernels/sgemm.h"
#include "tensor/kernels/sgemm_detail.h"

using heed::kernels::GemmArgs;

namespace {

// Deterministic values in [-1, 1): a 32-bit LCG, top bits.
struct Lcg {
  uint32_t state;
  float next() {
    state = state * 1664525u + 1013904223u;
    return float(state >> 8) / float(1 << 23) - 1.0f;
  }
};

std::vector<float> random_matrix(int64_t count, uint32_t seed) {
  Lcg lcg{seed};
  std::vector<float> v(static_cast<size_t>(count));
  for (float& x : v) x = lcg.next();
  return v;
}

// One product with its own storage. op(A) is (m, k), op(B) is (k, n); every
// leading dimension is the stored width plus `pad`, so the operands are
// submatrix views and C has a gap after each row that sgemm must not touch.
struct Problem {
  GemmArgs args;
  std::vector<float> a, b, c;

  Problem(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, bool accumulate, int64_t pad = 0,
          uint32_t seed = 1) {
    int64_t a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
    int64_t b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
    args = {.trans_a = trans_a,
            .trans_b = trans_b,
            .m = m,
            .n = n,
            .k = k,
            .lda = a_cols + pad,
            .ldb = b_cols + pad,
            .ldc = n + pad,
            .accumulate = accumulate};
    // One extra row's worth so that a padded, empty or 1-row matrix is still addressable.
    a = random_matrix((a_rows + 1) * args.lda, seed);
    b = random_matrix((b_rows + 1) * args.ldb, seed + 1);
    c = random_matrix((m + 1) * args.ldc, seed + 2);
    args.a = a.data();
    args.b = b.data();
    args.c = c.data();
  }
  // The same problem with |A| and |B|: its naive product bounds the rounding error.
  Problem absolute() const {
    Problem p = *this;
    for (float& x : p.a) x = std::fabs(x);
    for (float& x : p.b) x = std::fabs(x);
    for (float& x : p.c) x = std::fabs(x);
    p.args.a = p.a.data();
    p.args.b = p.b.data();
    p.args.c = p.c.data();
    return p;
  }
};

// Runs `kernel` and sgemm_naive on copies of p and checks every element of C
// against the classic bound |error| <= gamma_k (|C0| + |A|·|B|), twice over
// since both results carry rounding (gamma_k ~ (k + 1) eps). The padding
// after each row of C must come back untouched.
template <class Kernel>
void check_against_naive(const Problem& p, Kernel kernel) {
  Problem fast = p, slow = p, bound = p.absolute();
  fast.args.a = slow.args.a = p.a.data();
  fast.args.b = slow.args.b = p.b.data();
  fast.args.c = fast.c.data();
  slow.args.c = slow.c.data();
  kernel(fast.args);
  heed::kernels::sgemm_naive(slow.args);
  heed::kernels::sgemm_naive(bound.args);
  const GemmArgs& g = p.args;
  const double gamma = 2.0 * double(g.k + 2) * std::numeric_limits<float>::epsilon();
  int64_t bad = 0;
  for (int64_t i = 0; i < g.m + 1; ++i) {
    for (int64_t j = 0; j < g.ldc; ++j) {
      size_t at = static_cast<size_t>(i * g.ldc + j);
      if (i < g.m && j < g.n) {
        if (std::fabs(double(fast.c[at]) - double(slow.c[at])) > gamma * bound.c[at] + 1e-30) ++bad;
      } else if (fast.c[at] != p.c[at]) {
        ++bad;  // outside C: must be untouched
      }
    }
  }
  INFO("trans_a=", g.trans_a, " trans_b=", g.trans_b, " m=", g.m, " n=", g.n, " k=", g.k,
       " accumulate=", g.accumulate, " lda=", g.lda, " ldb=", g.ldb, " ldc=", g.ldc);
  CHECK(bad == 0);
}

void sgemm(const GemmArgs& g) { heed::kernels::sgemm(g); }

// Restores the thread count a test changed.
struct ThreadCount {
  int saved = heed::num_threads();
  ~ThreadCount() { heed::set_num_threads(saved); }
};

}  // namespace

TEST_CASE("sgemm matches sgemm_naive for all transpositions and edge sizes, with and without accumulate") {
  const int64_t sizes[] = {0, 1, 3, 17, 63, 65, 127, 129};
  for (bool trans_a : {false, true})
    for (bool trans_b : {false, true})
      for (bool accumulate : {false, true})
        for (int64_t m : sizes)
          for (int64_t n : sizes)
            for (int64_t k : {0, 1, 17, 65, 129})
              check_against_naive(Problem(trans_a, trans_b, m, n, k, accumulate), sgemm);
  // k in full around the tile and block edges, on a few m, n
  for (int64_t k : sizes)
    for (int64_t mn : {5, 64}) check_against_naive(Problem(false, true, mn, mn + 3, k, false), sgemm);
}

TEST_CASE("sgemm reads submatrix views through leading dimensions and leaves the rest of C alone") {
  for (bool trans_a : {false, true})
    for (bool trans_b : {false, true})
      for (int64_t pad : {1, 7, 16, 1500})  // 1500: A rows too far apart to read in place
        for (bool accumulate : {false, true}) {
          check_against_naive(Problem(trans_a, trans_b, 37, 45, 29, accumulate, pad), sgemm);
          check_against_naive(Problem(trans_a, trans_b, 130, 70, 300, accumulate, pad), sgemm);
        }
}

TEST_CASE("sgemm matches sgemm_naive on large products that cross every cache block") {
  for (bool trans_a : {false, true})
    for (bool trans_b : {false, true})
      check_against_naive(Problem(trans_a, trans_b, 300, 257, 520, false), sgemm);
  // K past two K blocks, N past one NC block
  check_against_naive(Problem(false, false, 13, 4100, 530, true), sgemm);
}

TEST_CASE("threads sharing packed B blocks match sgemm_naive across several K and N blocks") {
  ThreadCount restore;
  for (int threads : {2, 3}) {
    heed::set_num_threads(threads);
    // shared B: 11 MR panels over 3 K blocks and 2 N blocks, so both B buffers are reused
    check_against_naive(Problem(false, false, 61, 4100, 530, true), sgemm);
    check_against_naive(Problem(true, true, 300, 257, 520, false), sgemm);  // independent row slabs
    // column slabs: too few rows to share out
    check_against_naive(Problem(false, true, 7, 1500, 300, false), sgemm);
  }
}

TEST_CASE(
    "matrix-vector products (N = 1 or M = 1) match sgemm_naive, read through strides, on any thread count") {
  ThreadCount restore;
  struct Shape {
    int64_t m, n, k;
  };
  // A column of C (the matrix is op(A)) and a row of C (the matrix is op(B)ᵀ), each
  // long enough to split over threads and with every tail: groups of rows and of
  // columns, whole vectors and single lanes. Both layouts of the matrix, padded
  // leading dimensions (a strided x and y), and accumulate.
  for (Shape s :
       {Shape{4099, 1, 521}, Shape{1, 4099, 521}, Shape{1, 1, 1000}, Shape{71, 1, 3}, Shape{1, 67, 5}})
    for (bool trans_a : {false, true})
      for (bool trans_b : {false, true}) {
        std::vector<std::vector<float>> results;
        for (int threads : {1, 2, 3}) {
          heed::set_num_threads(threads);
          check_against_naive(Problem(trans_a, trans_b, s.m, s.n, s.k, true, 7), sgemm);
          Problem p(trans_a, trans_b, s.m, s.n, s.k, true, 7, 42);
          heed::kernels::sgemm(p.args);
          results.push_back(p.c);
          p = Problem(trans_a, trans_b, s.m, s.n, s.k, true, 7, 42);
          heed::kernels::detail::sgemm_scalar(p.args);
          results.push_back(p.c);
        }
        for (size_t t = 2; t < results.size(); ++t) CHECK(results[t] == results[t % 2]);
      }
}

// The bias epilogue adds each column's bias after the product, so it must give
// the bits of the product followed by a separate add, on every path: the
// matrix-vector ones (m or n = 1), the empty sum, one K block and several,
// threads splitting rows or columns, and both back ends. C's padding stays
// untouched.
TEST_CASE("sgemm's bias epilogue equals the product plus the bias, bitwise, on every path") {
  ThreadCount restore;
  using Kernel = void (*)(const GemmArgs&);
  const Kernel kernels[] = {sgemm, heed::kernels::detail::sgemm_scalar, heed::kernels::sgemm_naive};
  struct Size {
    int64_t m, n, k;
  };
  std::vector<Size> shapes;
  for (int64_t m : {1, 3, 17, 65})
    for (int64_t n : {1, 3, 17, 65})
      for (int64_t k : {0, 1, 17}) shapes.push_back({m, n, k});
  // For sgemm alone, the paths of larger products on two threads: row slabs,
  // rows sharing packed B blocks, and column slabs of a short, wide C.
  const Size large[] = {{65, 129, 300}, {65, 256, 512}, {3, 129, 3000}};
  for (Kernel kernel : kernels)
    for (int threads : {1, 2})
      for (bool trans_b : {false, true})
        for (bool accumulate : {false, true})
          for (size_t s = 0; s < shapes.size() + (kernel == kernels[0] ? std::size(large) : 0); ++s) {
            const auto [m, n, k] = s < shapes.size() ? shapes[s] : large[s - shapes.size()];
            heed::set_num_threads(threads);
            Problem with(false, trans_b, m, n, k, accumulate, 2), plain = with;
            plain.args.a = with.args.a = with.a.data();
            plain.args.b = with.args.b = with.b.data();
            plain.args.c = plain.c.data();
            const std::vector<float> bias = random_matrix(n, 7);
            with.args.bias = bias.data();
            kernel(with.args);
            kernel(plain.args);
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < n; ++j) plain.c[size_t(i * plain.args.ldc + j)] += bias[size_t(j)];
            INFO("threads=", threads, " trans_b=", trans_b, " accumulate=", accumulate, " m=", m, " n=", n,
                 " k=", k);
            CHECK(with.c == plain.c);
          }
}

TEST_CASE("the scalar back end computes the same products as the vector back end") {
  for (bool trans_a : {false, true})
    for (bool trans_b : {false, true})
      for (int64_t size : {1, 17, 65, 129}) {
        check_against_naive(Problem(trans_a, trans_b, size, size + 2, size + 1, true, 3),
                            heed::kernels::detail::sgemm_scalar);
        // and the two back ends agree with each other to rounding
        Problem p(trans_a, trans_b, size, size + 2, size + 1, false);
        Problem q = p;
        q.args.a = p.a.data();
        q.args.b = p.b.data();
        q.args.c = q.c.data();
        heed::kernels::sgemm(p.args);
        heed::kernels::detail::sgemm_scalar(q.args);
        float worst = 0;
        for (size_t i = 0; i < p.c.size(); ++i) worst = std::max(worst, std::fabs(p.c[i] - q.c[i]));
        CHECK(worst <= 4e-6f * float(size + 1));
      }
}

TEST_CASE("sgemm gives bitwise identical results with 1, 2 and 3 threads") {
  ThreadCount restore;
  struct Shape {
    int64_t m, n, k;
  };
  // square, tall (threads split rows), wide and short (threads split columns), and
  // large enough that the row slabs share packed B blocks (two K blocks)
  for (Shape s : {Shape{200, 150, 300}, Shape{700, 40, 90}, Shape{7, 1500, 200}, Shape{130, 600, 300}})
    for (bool trans_b : {false, true}) {
      std::vector<std::vector<float>> results;
      for (int threads : {1, 2, 3}) {
        heed::set_num_threads(threads);
        Problem p(false, trans_b, s.m, s.n, s.k, true, 0, 42);
        heed::kernels::sgemm(p.args);
        heed::kernels::detail::sgemm_scalar(p.args);  // the scalar path keeps the rule too
        results.push_back(p.c);
      }
      CHECK(results[0] == results[1]);
      CHECK(results[0] == results[2]);
    }
}

TEST_CASE(
    "sgemm_batched equals one sgemm per product, bitwise, for any thread count, with broadcast operands") {
  ThreadCount restore;
  struct Shape {
    int64_t m, n, k;
  };
  // small products spread over the batch; large ones split inside each product
  for (Shape s : {Shape{16, 24, 8}, Shape{64, 64, 64}, Shape{150, 140, 160}}) {
    const int64_t batch = 5;
    // a[i] repeats one matrix (broadcast), b[i] alternates between two
    std::vector<float> a = random_matrix(s.m * s.k, 7), b = random_matrix(2 * s.k * s.n, 8);
    std::vector<const float*> as(batch, a.data()), bs;
    for (int64_t i = 0; i < batch; ++i) bs.push_back(b.data() + (i % 2) * s.k * s.n);
    GemmArgs shape{.trans_b = true, .m = s.m, .n = s.n, .k = s.k, .lda = s.k, .ldb = s.k, .ldc = s.n};

    // the reference: one single-threaded sgemm per product
    heed::set_num_threads(1);
    std::vector<float> expected(static_cast<size_t>(batch * s.m * s.n));
    for (int64_t i = 0; i < batch; ++i) {
      GemmArgs g = shape;
      g.a = as[i];
      g.b = bs[i];
      g.c = expected.data() + i * s.m * s.n;
      heed::kernels::sgemm(g);
    }
    for (int threads : {1, 2, 3}) {
      heed::set_num_threads(threads);
      std::vector<float> c(expected.size(), -1.0f);
      std::vector<float*> cs;
      for (int64_t i = 0; i < batch; ++i) cs.push_back(c.data() + i * s.m * s.n);
      heed::kernels::sgemm_batched(shape, as.data(), bs.data(), cs.data(), batch);
      INFO("m=", s.m, " n=", s.n, " k=", s.k, " threads=", threads);
      CHECK(c == expected);
    }
  }
}
