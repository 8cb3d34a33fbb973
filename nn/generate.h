// Generation: greedy and beam search, for any model that decodes one symbol at
// a time (the Transformer with its key/value caches, the RNN encoder-decoders).
//
// A model hands the search a Decoder for one batch of sources: the encoded
// sources plus whatever state the model carries between steps (an RNN's
// hidden state, a Transformer's per-layer KVCache). The search only ever asks
// it for the next symbol's scores and tells it which hypotheses survive.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace heed::nn {

// One batch of N hypotheses being decoded (N = B for greedy, B * beam for beam
// search; row r starts as a copy of source row r / beam after the first reorder).
class Decoder {
 public:
  virtual ~Decoder() = default;
  // Each hypothesis' last symbol (N,) -> the log-probabilities of its next one
  // (N, V); the state moves one step forward. The first call gets the start symbol.
  virtual Tensor step(const Tensor& last) = 0;
  // Keep the states of hypotheses rows[0], rows[1], ... in that order (N' =
  // rows.size(); a row may repeat): beam search follows its survivors.
  virtual void reorder(const std::vector<int64_t>& rows) = 0;
};

}  // namespace heed::nn
