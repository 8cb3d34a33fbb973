// Placeholder until autograd lands (issue 3 replaces this file).
#include <cstdio>

#include "tests/bench/bench.h"

namespace heed::bench {
void bench_autograd() { std::printf("\nautograd: not built yet\n"); }
}  // namespace heed::bench
