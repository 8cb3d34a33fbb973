// How many threads heed's kernels use. Results never depend on it: kernels
// split work over independent outputs only (tensor/kernels/parallel.h).
#pragma once

namespace heed {

// The number of threads kernels use (>= 1). Read once from HEED_THREADS, else
// OMP_NUM_THREADS, else one per core. A value that is not a whole number from 1
// to 4 x the cores is ignored, with one line on stderr: 0, -1 or "abc" are
// typos, not requests, and 100000 threads crash the OpenMP runtime.
int num_threads();
// Sets it for all later kernels (a lesson's --threads); n outside
// [1, 4 x cores] is a heed::Error.
void set_num_threads(int n);

}  // namespace heed
