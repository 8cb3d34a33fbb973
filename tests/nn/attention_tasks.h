// Tasks that attention solves, shared by the learning tests (test_attention_learning.cpp),
// the generation tests (test_generate.cpp, through AttentionSeq2Seq::make_decoder) and
// make bench (bench_attention.cpp):
//
//  - reversal of length-12 sequences by a GRU encoder-decoder whose decoder
//    attends to the encoder's outputs at every step (Bahdanau, Luong dot or
//    general, or multi-head), where the plain encoder-decoder of
//    training_tasks.h must squeeze all 12 symbols through one vector;
//  - classification of padded sequences by FocusLSTM, where the label is
//    decided by the order of one adjacent pair (1 2 or 2 1) among distractors.
#pragma once

#include <memory>
#include <vector>

#include "nn/nn.h"
#include "tests/nn/training_tasks.h"

namespace heed::tasks {

enum class Attender { bahdanau, luong_dot, luong_general, multi_head };

inline const char* name_of(Attender a) {
  switch (a) {
    case Attender::bahdanau:
      return "Bahdanau";
    case Attender::luong_dot:
      return "Luong dot";
    case Attender::luong_general:
      return "Luong general";
    case Attender::multi_head:
      return "multi-head";
  }
  return "?";
}

struct Seq2SeqSizes {
  int64_t vocab = 10;  // V symbols; id V is the decoder's start symbol
  int64_t embed = 16;
  int64_t hidden = 64;  // Hid
};

// Encoder: Embedding -> GRU over the source: outputs (B, S, Hid), h_n (1, B, Hid).
// Decoder, per step t (input feeding, as in Luong et al.):
//   h_t = GRUCell([embed(y_{t-1}); h~_{t-1}], h_{t-1})
//   c_t = attend(h_t, encoder outputs)            (B, Hid)
//   h~_t = tanh(W_c [c_t; h_t]),  logits_t = out(h~_t)
struct AttentionSeq2Seq : nn::Module {
  Attender kind;
  Seq2SeqSizes sizes;
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::GRU> encoder;
  std::shared_ptr<nn::GRUCell> decoder;
  std::shared_ptr<nn::BahdanauAttention> bahdanau;
  std::shared_ptr<nn::LuongAttention> luong;
  std::shared_ptr<nn::MultiHeadAttention> multi_head;
  std::shared_ptr<nn::Linear> w_c, out;

  AttentionSeq2Seq(Attender kind, Seq2SeqSizes sizes, uint64_t seed)
      : Module("AttentionSeq2Seq"), kind(kind), sizes(sizes) {
    Generator gen(seed);
    const int64_t E = sizes.embed, Hid = sizes.hidden;
    embed = register_module(
        "embed", std::make_shared<nn::Embedding>(
                     nn::EmbeddingOptions{.num_embeddings = sizes.vocab + 1, .embedding_dim = E}, gen));
    encoder = register_module(
        "encoder", std::make_shared<nn::GRU>(nn::GRUOptions{.input_size = E, .hidden_size = Hid}, gen));
    decoder = register_module(
        "decoder",
        std::make_shared<nn::GRUCell>(nn::GRUCellOptions{.input_size = E + Hid, .hidden_size = Hid}, gen));
    switch (kind) {
      case Attender::bahdanau:
        bahdanau = register_module(
            "attention",
            std::make_shared<nn::BahdanauAttention>(
                nn::BahdanauAttentionOptions{.query_size = Hid, .key_size = Hid, .hidden_size = Hid}, gen));
        break;
      case Attender::luong_dot:
      case Attender::luong_general:
        luong = register_module(
            "attention",
            std::make_shared<nn::LuongAttention>(
                nn::LuongAttentionOptions{
                    .hidden_size = Hid,
                    .score = kind == Attender::luong_dot ? nn::LuongScore::dot : nn::LuongScore::general},
                gen));
        break;
      case Attender::multi_head:
        multi_head = register_module(
            "attention", std::make_shared<nn::MultiHeadAttention>(
                             nn::MultiHeadAttentionOptions{.embed_dim = Hid, .num_heads = 4}, gen));
        break;
    }
    if (!luong)  // Luong's layer holds its own W_c
      w_c = register_module(
          "w_c", std::make_shared<nn::Linear>(
                     nn::LinearOptions{.in_features = 2 * Hid, .out_features = Hid, .bias = false}, gen));
    out =
        register_module("out", std::make_shared<nn::Linear>(
                                   nn::LinearOptions{.in_features = Hid, .out_features = sizes.vocab}, gen));
  }

  struct Encoded {
    Variable outputs, h;                   // (B, S, Hid), (B, Hid)
    nn::BahdanauAttention::Memory memory;  // Bahdanau's W_k k, once per source
  };

  Encoded encode(const Tensor& source) {
    nn::RNNOutput enc = encoder->forward(embed->forward(source));
    Encoded e{enc.output, select(enc.h_n, 0, 0), {}};
    if (bahdanau) e.memory = bahdanau->remember(enc.output);
    return e;
  }

  // One decoder step: the previous symbols' embeddings (B, E) and state -> h~_t (B, Hid).
  Variable step(const Variable& embedded, Variable& h, const Variable& attentional, const Encoded& e) {
    h = decoder->forward(cat({embedded, attentional}, 1), h);
    const int64_t B = h.size(0), Hid = sizes.hidden;
    switch (kind) {
      case Attender::bahdanau:
        return tanh(w_c->forward(cat({bahdanau->forward(h, e.memory).output, h}, 1)));
      case Attender::luong_dot:
      case Attender::luong_general:
        return luong->forward(h, e.outputs).attentional;
      case Attender::multi_head: {
        Variable c = reshape(multi_head->forward(unsqueeze(h, 1), e.outputs, e.outputs).output, {B, Hid});
        return tanh(w_c->forward(cat({c, h}, 1)));
      }
    }
    return {};
  }

  // source: (B, S), target: (B, T)  ->  logits (B, T, V), teacher forced.
  Variable forward(const Tensor& source, const Tensor& target) {
    const int64_t B = source.size(0), T = target.size(1);
    Encoded e = encode(source);
    Tensor start = full({B, 1}, float(sizes.vocab));
    std::vector<Variable> fed = unbind(embed->forward(cat({start, narrow(target, 1, 0, T - 1)}, 1)), 1);
    Variable h = e.h, attentional(zeros({B, sizes.hidden}));
    std::vector<Variable> logits;
    for (int64_t t = 0; t < T; ++t) {
      attentional = step(fed[t], h, attentional, e);
      logits.push_back(out->forward(attentional));
    }
    return stack(logits, 1);
  }

  // source: (B, S)  ->  greedy predictions (B, T)
  Tensor decode(const Tensor& source, int64_t T) {
    NoGradGuard no_grad;
    const int64_t B = source.size(0);
    Encoded e = encode(source);
    Tensor symbol = full({B}, float(sizes.vocab));
    Variable h = e.h, attentional(zeros({B, sizes.hidden}));
    std::vector<Tensor> predicted;
    for (int64_t t = 0; t < T; ++t) {
      attentional = step(embed->forward(symbol), h, attentional, e);
      symbol = argmax(out->forward(attentional).value(), -1);  // (B,)
      predicted.push_back(symbol);
    }
    return stack(predicted, 1);
  }

  // source: (B, S)  ->  a Decoder for nn::greedy_search / nn::beam_search that
  // steps as decode() does; decoder_start_token_id = sizes.vocab.
  std::unique_ptr<nn::Decoder> make_decoder(const Tensor& source);
};

// A Decoder over a batch of sources for nn::greedy_search / nn::beam_search,
// stepping exactly as decode() does (start symbol sizes.vocab). Its state per
// hypothesis: h and h~ (N, Hid), and the encoder's outputs (N, S, Hid) (and
// Bahdanau's projected keys), whose rows reorder() follows.
class AttentionSeq2SeqDecoder : public nn::Decoder {
 public:
  AttentionSeq2SeqDecoder(AttentionSeq2Seq& model, const Tensor& source) : model_(model) {
    NoGradGuard no_grad;
    e_ = model.encode(source);
    h_ = e_.h;
    attentional_ = Variable(zeros({source.size(0), model.sizes.hidden}));
  }
  Tensor step(const Tensor& last) override {
    NoGradGuard no_grad;
    attentional_ = model_.step(model_.embed->forward(last), h_, attentional_, e_);
    return log_softmax(model_.out->forward(attentional_).value(), -1);  // (N, V)
  }
  void reorder(const std::vector<int64_t>& rows) override {
    const Tensor index = from_vector(std::vector<float>(rows.begin(), rows.end()), {int64_t(rows.size())});
    auto pick = [&](Variable& v) {
      if (v.defined()) v = Variable(index_select(v.value(), 0, index));
    };
    pick(h_);
    pick(attentional_);
    pick(e_.outputs);
    pick(e_.memory.keys);
    pick(e_.memory.projected);
    if (e_.memory.key_padding.defined())
      e_.memory.key_padding = index_select(e_.memory.key_padding, 0, index);
  }

 private:
  AttentionSeq2Seq& model_;
  AttentionSeq2Seq::Encoded e_;
  Variable h_, attentional_;
};

inline std::unique_ptr<nn::Decoder> AttentionSeq2Seq::make_decoder(const Tensor& source) {
  return std::make_unique<AttentionSeq2SeqDecoder>(*this, source);
}

struct LearningResult {
  double validation_accuracy = 0, test_accuracy = 0;
  int64_t steps = 0;
};

// Length-12 reversal: Adam until the validation set is at 99% (checked every
// 100 steps, at most `max_steps`), then a separate test set.
inline LearningResult train_attention_reversal(Attender kind, int64_t max_steps = 3000, double lr = 3e-3) {
  constexpr int64_t kLength12 = 12;
  AttentionSeq2Seq model(kind, {}, /*seed=*/31);
  nn::Adam adam(model.named_parameters(), {.lr = lr});
  nn::CrossEntropyLoss criterion;
  Generator train_gen(5), validation_gen(6), test_gen(7);  // 10^12 sequences: the sets do not overlap
  Pairs validation = reversed_pairs(256, kLength12, 10, validation_gen),
        test = reversed_pairs(512, kLength12, 10, test_gen);
  LearningResult result;
  while (result.steps < max_steps && result.validation_accuracy < 0.99) {
    for (int64_t i = 0; i < 100; ++i, ++result.steps) {
      Pairs batch = reversed_pairs(64, kLength12, 10, train_gen);
      adam.zero_grad();
      Variable logits = model.forward(batch.source, batch.target);
      criterion(reshape(logits, {-1, 10}), flatten(batch.target)).backward();
      nn::clip_grad_norm(model.parameters(), 1.0);
      adam.step();
    }
    result.validation_accuracy =
        mean(eq(model.decode(validation.source, kLength12), validation.target)).item();
  }
  result.test_accuracy = mean(eq(model.decode(test.source, kLength12), test.target)).item();
  return result;
}

// ------------------------------------------------------------- a local cue
// Sequences of length 8..16 over tokens 3..V-1 (distractors), right-padded
// with 0 to 16, holding one adjacent pair: "1 2" means class 1, "2 1" class 0.
struct Cued {
  Tensor ids, padding, labels;  // (B, 16), (B, 16) non-zero at padding, (B,)
};

inline Cued cued_sequences(int64_t batch, Generator& gen, int64_t vocab = 20, int64_t width = 16) {
  std::vector<float> ids(batch * width, 0.0f), padding(batch * width, 1.0f), labels(batch);
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t n = 8 + gen.randint(width - 8 + 1), at = gen.randint(n - 1);
    const bool one_two = gen.randint(2) == 1;
    for (int64_t t = 0; t < n; ++t) {
      ids[b * width + t] = float(3 + gen.randint(vocab - 3));
      padding[b * width + t] = 0.0f;
    }
    ids[b * width + at] = one_two ? 1.0f : 2.0f;
    ids[b * width + at + 1] = one_two ? 2.0f : 1.0f;
    labels[b] = one_two ? 1.0f : 0.0f;
  }
  return {from_vector(ids, {batch, width}), from_vector(padding, {batch, width}),
          from_vector(labels, {batch})};
}

inline LearningResult train_focus_classifier(int64_t max_steps = 2000) {
  nn::FocusLSTM model(
      {.vocab_size = 20, .hidden_size = 32, .num_layers = 1, .num_heads = 2, .num_classes = 2, .seed = 41});
  nn::Adam adam(model.named_parameters(), {.lr = 5e-3});
  nn::CrossEntropyLoss criterion;
  Generator train_gen(8), validation_gen(9), test_gen(10);
  Cued validation = cued_sequences(256, validation_gen), test = cued_sequences(512, test_gen);
  auto accuracy = [&](const Cued& data) {
    NoGradGuard no_grad;
    return double(
        mean(eq(argmax(model.forward(data.ids, data.padding).logits.value(), -1), data.labels)).item());
  };
  LearningResult result;
  while (result.steps < max_steps && result.validation_accuracy < 0.99) {
    for (int64_t i = 0; i < 100; ++i, ++result.steps) {
      Cued batch = cued_sequences(64, train_gen);
      adam.zero_grad();
      criterion(model.forward(batch.ids, batch.padding).logits, batch.labels).backward();
      nn::clip_grad_norm(model.parameters(), 1.0);
      adam.step();
    }
    result.validation_accuracy = accuracy(validation);
  }
  result.test_accuracy = accuracy(test);
  return result;
}

}  // namespace heed::tasks
