// The cost of recording: a chain of small ops, forward and backward.
//
// On (64,) tensors the arithmetic is a few nanoseconds; what this measures is the
// engine around it: making the output Variable and its Node, the closure, the
// topological sort, the accumulation and the freeing of the graph. Held to
// 1 us per op, forward + backward, so a training step on a toy model is spent
// in kernels, not in bookkeeping.
#include <cstdio>

#include "autograd/autograd.h"
#include "tests/bench/bench.h"

namespace heed::bench {

void bench_autograd() {
  constexpr int kOps = 999;  // add, mul, tanh, repeated; plus the final sum
  Generator gen(0);
  Variable x(randn({64}, gen), /*requires_grad=*/true);
  Variable shift(randn({64}, gen));
  Variable scale(uniform({64}, 0.5f, 1.5f, gen));

  double forward = median_seconds(
      [&] {
        Variable h = x;
        for (int i = 0; i < kOps / 3; ++i) h = tanh((h + shift) * scale);
        sum(h);
      },
      15, 3);
  double both = median_seconds(
      [&] {
        Variable h = x;
        for (int i = 0; i < kOps / 3; ++i) h = tanh((h + shift) * scale);
        sum(h).backward();
        x.zero_grad();
      },
      15, 3);

  double ns = both * 1e9 / (kOps + 1);
  std::printf("\nautograd: a 1000-op chain of add/mul/tanh on (64,) tensors, median of 15\n");
  std::printf("  forward only          %8.0f ns per op\n", forward * 1e9 / (kOps + 1));
  std::printf("  forward + backward    %8.0f ns per op   %s (target < 1000 ns)\n", ns,
              ns < 1000 ? "PASS" : "MISS");
}

}  // namespace heed::bench
