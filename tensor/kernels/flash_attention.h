// Fused ("flash") scaled dot-product attention, forward and backward, for a
// batch of independent problems (the (batch, head) pairs), with memory
// O(T d) instead of the O(T S) of the weights.
//
// Per problem:  q (T, Dh)  k (S, Dh)  v (S, Dv)  ->  out (T, Dv), lse (T,)
//   s_ij  = scale q_i . k_j                     for the visible keys j of query i
//   lse_i = log sum_j exp(s_ij)                 (-inf when no key is visible)
//   out_i = sum_j exp(s_ij - lse_i) v_j         (0 when no key is visible)
//
// Forward: the queries are cut into blocks of Br rows, the keys into blocks of
// Bc. For each query block, the key blocks go by one at a time: a (Br, Bc) tile
// of scores in cache, an online softmax (each row keeps its running max m and
// sum l; when m grows by d, l and the output accumulated so far are multiplied
// by exp(-d)), and the tile's probabilities times the Bc values added to the
// block's (Br, Dv) output. Only lse_i = m_i + log l_i leaves the kernel.
//
// Backward, from dout (T, Dv), out and lse: with p_ij = exp(s_ij - lse_i),
//   D_i   = dout_i . out_i                   (= sum_j p_ij dp_ij)
//   dv_j += p_ij dout_i                      dV += Pᵀ dO
//   dp_ij = dout_i . v_j                     dP  = dO Vᵀ
//   ds_ij = p_ij (dp_ij - D_i)               dS  = P * (dP - D)
//   dq_i += scale ds_ij k_j,  dk_j += scale ds_ij q_i
// The tiles of P are recomputed from q, k and lse, never stored. Outer loop over
// key blocks (their dK, dV stay in a (Bc, D) scratch), inner over query blocks.
//
// Visibility: query i sits at position p_i = S - T + i (the queries are the
// last T of the S positions, as nn::causal_mask has it). Key j is visible iff
//   p_i - left <= j <= p_i + right   (left < 0 or right < 0: no bound that side;
//                                     causal is right = 0)
// and key_padding[j] == 0 (a per-problem row of S floats, non-zero hides).
// Key blocks wholly outside a query block's band are skipped, so a window of
// width w costs O(T w d), not O(T S d).
//
// Threads: the forward splits (problem, query block) pairs, which write
// disjoint rows. The backward gives each problem to one thread, which sums
// every dq, dk, dv element in one fixed order. So results are bitwise identical
// for any thread count. They do depend on the tile sizes, by rounding only.
//
// flash_attention_*_naive are the plain-loop twins (std::exp, one query row at
// a time, no tiles), for tests.
#pragma once

#include <cstdint>

namespace heed::kernels {

struct FlashAttentionArgs {
  int64_t batch = 0, t = 0, s = 0, dh = 0, dv = 0;
  float scale = 1.0f;
  int64_t left = -1, right = -1;     // the band; < 0: unbounded that side
  int64_t block_q = 0, block_k = 0;  // Br, Bc; 0: the measured defaults
  // Per problem i: q[i] (t, dh), k[i] (s, dh), v[i] (s, dv), out[i] (t, dv)
  // with row strides ldq, ldk, ldv, ldo (unit stride along a row);
  // key_padding[i] (s,) or key_padding == nullptr; lse[i] (t,) contiguous.
  const float* const* q = nullptr;
  const float* const* k = nullptr;
  const float* const* v = nullptr;
  int64_t ldq = 0, ldk = 0, ldv = 0, ldo = 0;
  const float* const* key_padding = nullptr;
  float* const* out = nullptr;  // written by the forward, read by the backward
  float* const* lse = nullptr;  // likewise
  // Backward only: dout[i] (t, dv) in, dq[i] (t, dh), dk[i] (s, dh), dvv[i]
  // (s, dv) out (overwritten), with their row strides.
  const float* const* dout = nullptr;
  float* const* dq = nullptr;
  float* const* dk = nullptr;
  float* const* dvv = nullptr;
  int64_t ld_dout = 0, ld_dq = 0, ld_dk = 0, ld_dv = 0;
};

// Measured (one thread, AVX-512, Dh = 64, T = S = 1024 and 4096, forward +
// backward CPU time over Br, Bc in {32, 64, 128, 256}): 128 x 128 was best,
// 64 x 64 3-6% slower, 256 x 256 4-9% slower. The tiles then take (128, 128 +
// Dh + Dv) floats, about 130 KiB: they live in L2.
inline constexpr int64_t kFlashBlockQ = 128, kFlashBlockK = 128;

void flash_attention_forward(const FlashAttentionArgs& a);
void flash_attention_backward(const FlashAttentionArgs& a);

void flash_attention_forward_naive(const FlashAttentionArgs& a);
void flash_attention_backward_naive(const FlashAttentionArgs& a);

}  // namespace heed::kernels
