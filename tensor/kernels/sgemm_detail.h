// The blocked sgemm pinned to one SIMD back end, for the tests that hold the
// vector path to the scalar one (and for lesson 03, which times both).
// sgemm() itself always runs the widest back end, simd::Vec.
#pragma once

#include "tensor/kernels/sgemm.h"

namespace heed::kernels::detail {

// Same packing, blocking and threading as sgemm, with simd::VecScalar tiles.
void sgemm_scalar(const GemmArgs& g);

}  // namespace heed::kernels::detail
