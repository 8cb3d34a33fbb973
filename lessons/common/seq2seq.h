// The RNN encoder-decoder of lessons 05-08, with or without attention.
//
// Encoder: Embedding -> GRU over the source: outputs h_s (B, S, Hid), and its
// last state (B, Hid), taken at each sequence's true length (bidirectional:
// two GRUs of Hid / 2, one per direction, their outputs and last states joined).
// Decoder, per target step t (input feeding, as in Luong et al. 2015):
//   h_t  = GRUCell([embed(y_{t-1}); h~_{t-1}], h_{t-1})      (B, Hid)
//   c_t  = sum_s a_ts h_s, a_t = attention(h_t, h_s)          (B, Hid), (B, S)
//   h~_t = tanh(W_c [c_t; h_t])                               (B, Hid)
//   logits_t = W_out h~_t                                     (B, V)
// Without attention (lesson 05) h~_t = h_t: the whole source must pass through
// the encoder's last state, a fixed-size vector whatever the length; that is
// the bottleneck attention removes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "nn/nn.h"

namespace heed::course {

enum class AttentionKind {
  none,
  bahdanau,
  luong_dot,
  luong_general,
  luong_concat,
  luong_location,
  luong_local_p
};
const char* name_of(AttentionKind kind);

struct Seq2SeqOptions {
  int64_t source_vocab = 0, target_vocab = 0;  // ids in [0, V); the target's include `bos`
  int64_t embed = 32, hidden = 64;             // E, Hid
  AttentionKind attention = AttentionKind::bahdanau;
  // The encoder reads the source both ways, Hid / 2 per direction, so h_s =
  // [forward h_s; backward h_s] (B, S, Hid) knows the words on both sides of s
  // (Bahdanau et al.'s BiRNN), and the decoder starts from [forward last; backward first].
  bool bidirectional = false;
  int64_t bos = 1;                // the decoder's first input (course::Vocab::bos)
  int64_t max_source_length = 0;  // luong_location: its one score per source position
  int64_t half_window = 3;        // luong_local_p: D, the window [p_t - D, p_t + D]
  uint64_t seed = 0;
};

struct Seq2SeqOutput {
  Variable logits;   // (B, T, V)
  Variable weights;  // (B, T, S) attention weights, undefined without attention
};

class Seq2Seq : public nn::Module {
 public:
  explicit Seq2Seq(const Seq2SeqOptions& options);

  // source: (B, S) ids, source_padding: (B, S) 1 at padding (or undefined: none),
  // target: (B, T) ids. Teacher forcing: step t reads target t - 1 (bos at t = 0).
  Seq2SeqOutput forward(const Tensor& source, const Tensor& source_padding, const Tensor& target);

  // Greedy decoding of `steps` symbols, with each step's attention weights.
  struct Decoded {
    Tensor ids;      // (B, steps)
    Tensor weights;  // (B, steps, S), undefined without attention
  };
  Decoded greedy(const Tensor& source, const Tensor& source_padding, int64_t steps);

  // A Decoder for nn::greedy_search and nn::beam_search over these sources
  // (decoder_start_token_id = options().bos); stepping exactly as greedy().
  std::unique_ptr<nn::Decoder> make_decoder(const Tensor& source, const Tensor& source_padding);

  const Seq2SeqOptions& options() const { return options_; }

  // What a source gives every decoder step, and the decoder's running state.
  struct State {
    Variable outputs;                      // h_s: (B, S, Hid)
    Tensor padding;                        // (B, S) or undefined
    nn::BahdanauAttention::Memory memory;  // Bahdanau's W_k h_s, once per source
    Variable h, attentional;               // h_t, h~_t: (B, Hid)
    int64_t t = 0;                         // the step (luong local-m would need it)
  };
  State encode(const Tensor& source, const Tensor& source_padding);
  // One step from the previous symbols (B,): logits (B, V); `weights` (B, S) if asked.
  Variable step(const Tensor& previous, State& state, Variable* weights = nullptr);

 private:
  Seq2SeqOptions options_;
  std::shared_ptr<nn::Embedding> source_embed_, target_embed_;
  std::shared_ptr<nn::GRU> encoder_;
  std::shared_ptr<nn::GRUCell> decoder_;
  std::shared_ptr<nn::BahdanauAttention> bahdanau_;
  std::shared_ptr<nn::LuongAttention> luong_;
  std::shared_ptr<nn::Linear> w_c_, out_;
};

}  // namespace heed::course
