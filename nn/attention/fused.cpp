#include "nn/attention/fused.h"

#include "tensor/flash_attention.h"

namespace heed::nn {

// Forward: out, lse = flash_attention(q, k, v). Backward (recomputing the
// weights P from q, k, lse, tile by tile):
//   dV = Pᵀ dO,  dP = dO Vᵀ,  dS = P * (dP - rowsum(dO * O)),  dQ = scale dS K,  dK = scale dSᵀ Q
Variable fused_attention(const Variable& q, const Variable& k, const Variable& v,
                         const FusedAttentionOptions& options) {
  FlashAttentionOptions flash{.scale = options.scale,
                              .left = options.window_left,
                              .right = options.causal ? 0 : options.window_right,
                              .key_padding = options.key_padding,
                              .block_q = options.block_q,
                              .block_k = options.block_k};
  FlashAttentionResult r = flash_attention(q.value(), k.value(), v.value(), flash);
  return record("fused_attention", r.output, {q, k, v},
                [q = Saved(q.value(), "its input 0"), k = Saved(k.value(), "its input 1"),
                 v = Saved(v.value(), "its input 2"), out = Saved(r.output, "its output"), lse = r.lse,
                 flash](const Tensor& grad) {
                  FlashAttentionGrads g = flash_attention_backward(grad, q, k, v, out, lse, flash);
                  return Grads{g.q, g.k, g.v};
                });
}

}  // namespace heed::nn
