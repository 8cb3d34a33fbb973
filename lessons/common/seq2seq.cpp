#include "lessons/common/seq2seq.h"

namespace heed::course {

const char* name_of(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::none:
      return "no attention";
    case AttentionKind::bahdanau:
      return "Bahdanau";
    case AttentionKind::luong_dot:
      return "Luong dot";
    case AttentionKind::luong_general:
      return "Luong general";
    case AttentionKind::luong_concat:
      return "Luong concat";
    case AttentionKind::luong_location:
      return "Luong location";
    case AttentionKind::luong_local_p:
      return "Luong local-p";
  }
  return "?";
}

namespace {

nn::LuongScore luong_score(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::luong_dot:
    case AttentionKind::luong_local_p:
      return nn::LuongScore::dot;
    case AttentionKind::luong_concat:
      return nn::LuongScore::concat;
    case AttentionKind::luong_location:
      return nn::LuongScore::location;
    default:
      return nn::LuongScore::general;
  }
}

bool is_luong(AttentionKind kind) { return kind != AttentionKind::none && kind != AttentionKind::bahdanau; }

}  // namespace

Seq2Seq::Seq2Seq(const Seq2SeqOptions& options) : Module("Seq2Seq"), options_(options) {
  HEED_CHECK(options.source_vocab > 0 && options.target_vocab > 0 && options.embed > 0 && options.hidden > 0,
             "Seq2Seq: vocabularies and sizes must be positive, got source_vocab ", options.source_vocab,
             ", target_vocab ", options.target_vocab, ", embed ", options.embed, ", hidden ", options.hidden);
  HEED_CHECK(options.bos >= 0 && options.bos < options.target_vocab, "Seq2Seq: bos ", options.bos,
             " is not a target id in [0, ", options.target_vocab, ")");
  Generator gen(options.seed);
  const int64_t E = options.embed, Hid = options.hidden;
  const bool attends = options.attention != AttentionKind::none;
  source_embed_ = register_module(
      "source_embed",
      std::make_shared<nn::Embedding>(
          nn::EmbeddingOptions{.num_embeddings = options.source_vocab, .embedding_dim = E}, gen));
  target_embed_ = register_module(
      "target_embed",
      std::make_shared<nn::Embedding>(
          nn::EmbeddingOptions{.num_embeddings = options.target_vocab, .embedding_dim = E}, gen));
  HEED_CHECK(!options.bidirectional || Hid % 2 == 0, "Seq2Seq: a bidirectional encoder splits hidden ", Hid,
             " in two directions, so it must be even");
  const bool both = options.bidirectional;
  encoder_ = register_module(
      "encoder",
      std::make_shared<nn::GRU>(
          nn::GRUOptions{.input_size = E, .hidden_size = both ? Hid / 2 : Hid, .bidirectional = both}, gen));
  // Input feeding: with attention the decoder also reads h~_{t-1}.
  decoder_ = register_module(
      "decoder", std::make_shared<nn::GRUCell>(
                     nn::GRUCellOptions{.input_size = attends ? E + Hid : E, .hidden_size = Hid}, gen));
  if (options.attention == AttentionKind::bahdanau) {
    bahdanau_ = register_module(
        "attention",
        std::make_shared<nn::BahdanauAttention>(
            nn::BahdanauAttentionOptions{.query_size = Hid, .key_size = Hid, .hidden_size = Hid}, gen));
    w_c_ = register_module(
        "w_c", std::make_shared<nn::Linear>(
                   nn::LinearOptions{.in_features = 2 * Hid, .out_features = Hid, .bias = false}, gen));
  } else if (is_luong(options.attention)) {
    const bool local = options.attention == AttentionKind::luong_local_p;
    luong_ = register_module(
        "attention",
        std::make_shared<nn::LuongAttention>(
            nn::LuongAttentionOptions{.hidden_size = Hid,
                                      .score = luong_score(options.attention),
                                      .window = local ? nn::LuongWindow::local_p : nn::LuongWindow::global,
                                      .half_window = local ? options.half_window : 0,
                                      .max_source_length = options.max_source_length},
            gen));  // it holds its own W_c
  }
  out_ = register_module(
      "out", std::make_shared<nn::Linear>(
                 nn::LinearOptions{.in_features = Hid, .out_features = options.target_vocab}, gen));
}

Seq2Seq::State Seq2Seq::encode(const Tensor& source, const Tensor& source_padding) {
  nn::Lengths lengths;
  if (source_padding.defined()) lengths = nn::Lengths(sum(eq(source_padding, zeros({})), {1}));
  nn::RNNOutput enc = encoder_->forward(source_embed_->forward(source), {}, lengths);
  State s;
  s.outputs = enc.output;
  s.padding = source_padding;
  // h_n: (Dir, B, Hid / Dir); the backward direction ends at position 0
  s.h =
      options_.bidirectional ? cat({select(enc.h_n, 0, 0), select(enc.h_n, 0, 1)}, 1) : select(enc.h_n, 0, 0);
  if (options_.attention != AttentionKind::none)
    s.attentional = Variable(zeros({source.size(0), options_.hidden}));
  if (bahdanau_) s.memory = bahdanau_->remember(enc.output, source_padding);
  return s;
}

Variable Seq2Seq::step(const Tensor& previous, State& s, Variable* weights) {
  Variable embedded = target_embed_->forward(previous);  // (B, E)
  Variable attended;
  if (options_.attention == AttentionKind::none) {
    s.h = decoder_->forward(embedded, s.h);
    attended = s.h;
  } else {
    s.h = decoder_->forward(cat({embedded, s.attentional}, 1), s.h);
    if (bahdanau_) {
      nn::Attention a = bahdanau_->forward(s.h, s.memory);
      s.attentional = tanh(w_c_->forward(cat({a.output, s.h}, 1)));
      if (weights) *weights = a.weights;
    } else {
      nn::LuongOutput a = luong_->forward(s.h, s.outputs, s.t, s.padding);
      s.attentional = a.attentional;
      if (weights) *weights = a.weights;
    }
    attended = s.attentional;
  }
  ++s.t;
  return out_->forward(attended);
}

Seq2SeqOutput Seq2Seq::forward(const Tensor& source, const Tensor& source_padding, const Tensor& target) {
  const int64_t B = target.size(0), T = target.size(1);
  State s = encode(source, source_padding);
  // Step t reads target t - 1, and bos first: (B, T) inputs.
  Tensor inputs = cat({full({B, 1}, float(options_.bos)), narrow(target, 1, 0, T - 1)}, 1);
  std::vector<Variable> logits, weights;
  for (int64_t t = 0; t < T; ++t) {
    Variable w;
    logits.push_back(step(select(inputs, 1, t), s, &w));
    if (w.defined()) weights.push_back(w);
  }
  return {stack(logits, 1), weights.empty() ? Variable() : stack(weights, 1)};
}

Seq2Seq::Decoded Seq2Seq::greedy(const Tensor& source, const Tensor& source_padding, int64_t steps) {
  NoGradGuard no_grad;
  State s = encode(source, source_padding);
  Tensor symbol = full({source.size(0)}, float(options_.bos));
  std::vector<Tensor> ids, weights;
  for (int64_t t = 0; t < steps; ++t) {
    Variable w;
    symbol = argmax(step(symbol, s, &w).value(), -1);  // (B,)
    ids.push_back(symbol);
    if (w.defined()) weights.push_back(w.value());
  }
  return {stack(ids, 1), weights.empty() ? Tensor() : stack(weights, 1)};
}

namespace {

// nn::beam_search's view of a Seq2Seq: the state per hypothesis is the
// decoder's (h, h~) and the source's encoding, whose rows reorder() follows.
class Seq2SeqDecoder : public nn::Decoder {
 public:
  Seq2SeqDecoder(Seq2Seq& model, Seq2Seq::State state) : model_(model), state_(std::move(state)) {}

  Tensor step(const Tensor& last) override {
    NoGradGuard no_grad;
    return log_softmax(model_.step(last, state_).value(), -1);  // (N, V)
  }

  void reorder(const std::vector<int64_t>& rows) override {
    const Tensor index = from_vector(std::vector<float>(rows.begin(), rows.end()), {int64_t(rows.size())});
    auto pick = [&](Variable& v) {
      if (v.defined()) v = Variable(index_select(v.value(), 0, index));
    };
    auto pick_tensor = [&](Tensor& t) {
      if (t.defined()) t = index_select(t, 0, index);
    };
    pick(state_.h);
    pick(state_.attentional);
    pick(state_.outputs);
    pick(state_.memory.keys);
    pick(state_.memory.projected);
    pick_tensor(state_.padding);
    pick_tensor(state_.memory.key_padding);
  }

 private:
  Seq2Seq& model_;
  Seq2Seq::State state_;
};

}  // namespace

std::unique_ptr<nn::Decoder> Seq2Seq::make_decoder(const Tensor& source, const Tensor& source_padding) {
  NoGradGuard no_grad;
  return std::make_unique<Seq2SeqDecoder>(*this, encode(source, source_padding));
}

}  // namespace heed::course
