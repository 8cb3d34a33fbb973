// Generation: greedy and beam search, for any model that decodes one symbol at
// a time (the Transformer with its key/value caches, the RNN encoder-decoders).
//
// A model hands the search a Decoder for one batch of sources: the encoded
// sources plus whatever state the model carries between steps (an RNN's
// hidden state, a Transformer's per-layer KVCache). The search only ever asks
// it for the next symbol's scores and tells it which hypotheses survive.
//
// Scores. A hypothesis y_1 .. y_L (L generated symbols, eos included when it
// was emitted) has log_prob = sum_t log p(y_t | y_<t, x), and beam search ranks
// finished hypotheses by
//
//     score = log_prob / L^alpha,        alpha = length_penalty
//
// (fairseq's `lenpen`, Hugging Face's `length_penalty`; GNMT's ((5 + L) / 6)^alpha
// is not offered). alpha = 0 ranks by the plain sum, which favours short
// outputs; alpha = 1 by the mean log-probability per symbol.
//
// Beam search, per source, with K = num_beams: every step extends each of the
// (at most K) running hypotheses by every symbol and sorts the candidates by
// log_prob (ties: lower hypothesis, then lower symbol first). An eos candidate
// among the first K is finished; the first K candidates that are not eos run
// on. Finished hypotheses are kept (the best num_return_sequences of them) until
// no running one can beat them: log-probs are <= 0, so a running hypothesis of
// log_prob s and length l can at best reach s / L^alpha for some L in
// [l + 1, max_new_tokens], and the source is done once that bound, for its best
// runner, is <= the score of its num_return_sequences-th finished hypothesis.
// With alpha = 0 this stops at once; with alpha > 0 a search often runs to
// max_new_tokens. At max_new_tokens the running hypotheses finish without eos.
// Beam search over log-probs that are not <= 0 (unnormalized scores) may stop
// too early.
//
// Batching: the B sources decode together, one step() call for all their live
// hypotheses (N <= B * K rows, source-major); a source that is done, and a
// greedy row that emitted eos, leave the batch through reorder(), so the model
// never computes a row nobody reads.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace heed::nn {

// One batch of N hypotheses being decoded. Before the first reorder, row r is
// source r (N = B); after it, rows are whatever reorder() said.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // Each hypothesis' last symbol (N,) -> the log-probabilities of its next one
  // (N, V); the state moves one step forward. The first call gets the start symbol.
  virtual Tensor step(const Tensor& last) = 0;
  // Keep the states of hypotheses rows[0], rows[1], ... in that order (N' =
  // rows.size(), which may be smaller or larger than N; a row may repeat): beam
  // search follows its survivors and drops finished sources.
  virtual void reorder(const std::vector<int64_t>& rows) = 0;
};

// Names follow Hugging Face's generate() where it has one.
struct GreedySearchOptions {
  int64_t max_new_tokens = 20;         // at most this many generated symbols, eos included
  int64_t decoder_start_token_id = 0;  // fed at the first step; may lie outside [0, V)
  int64_t eos_token_id = -1;           // in [0, V), or -1: no eos, every row runs max_new_tokens
};

struct BeamSearchOptions {
  int64_t num_beams = 4;  // K, the beam width
  int64_t max_new_tokens = 20;
  int64_t decoder_start_token_id = 0;
  int64_t eos_token_id = -1;
  float length_penalty = 1.0f;       // alpha in log_prob / L^alpha (any finite value)
  int64_t num_return_sequences = 1;  // n-best list per source, 1 <= n <= num_beams
};

struct Hypothesis {
  std::vector<int64_t> tokens;  // generated symbols: no start symbol, eos last if emitted
  double log_prob = 0;          // sum of the symbols' log-probabilities
  double score = 0;             // log_prob / length^alpha (greedy: log_prob)
};

// decoder: B sources at their first step. One hypothesis per source: each row
// takes the first symbol of highest log-probability until eos or max_new_tokens.
std::vector<Hypothesis> greedy_search(Decoder& decoder, int64_t batch, const GreedySearchOptions& options);

// decoder: B sources at their first step. Per source, its best hypotheses by
// score, best first (num_return_sequences of them, fewer only if the beam met
// fewer distinct sequences, as when V^max_new_tokens < num_return_sequences).
std::vector<std::vector<Hypothesis>> beam_search(Decoder& decoder, int64_t batch,
                                                 const BeamSearchOptions& options);

// Hypotheses -> (B, T) token ids (T = the longest), shorter rows padded with
// `padding_value`: the shape the models' teacher-forced forward takes.
Tensor to_tensor(const std::vector<Hypothesis>& hypotheses, float padding_value);

}  // namespace heed::nn
