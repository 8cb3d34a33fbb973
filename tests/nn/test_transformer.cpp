// The Transformer: its layers against numbers computed by hand, gradcheck of
// every layer and of the model's loss, PyTorch's parameter names, tied
// weights, padding masks, and cached decoding against full re-runs.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nn/generate.h"
#include "nn/loss.h"
#include "nn/transformer.h"
#include "tests/nn/layer_check.h"
#include "tests/testing.h"

using namespace heed;
using testing::randn_;
using Vars = std::vector<Variable>;

namespace {

// The parameter members each layer's forward reads, for gradcheck_layer.
void collect(std::vector<Variable*>& out, nn::Linear& l) {
  out.push_back(&l.weight);
  if (l.bias.defined()) out.push_back(&l.bias);
}
void collect(std::vector<Variable*>& out, nn::LayerNorm& n) {
  out.push_back(&n.weight);
  out.push_back(&n.bias);
}
void collect(std::vector<Variable*>& out, nn::MultiHeadAttention& m) {
  for (auto* l : {m.q_proj.get(), m.k_proj.get(), m.v_proj.get(), m.out_proj.get()}) collect(out, *l);
  if (m.relative) {
    out.push_back(&m.relative->keys);
    out.push_back(&m.relative->values);
  }
}
void collect(std::vector<Variable*>& out, nn::TransformerEncoderLayer& l) {
  collect(out, *l.self_attn);
  collect(out, *l.linear1);
  collect(out, *l.linear2);
  collect(out, *l.norm1);
  collect(out, *l.norm2);
}
void collect(std::vector<Variable*>& out, nn::TransformerDecoderLayer& l) {
  collect(out, *l.self_attn);
  collect(out, *l.multihead_attn);
  collect(out, *l.linear1);
  collect(out, *l.linear2);
  collect(out, *l.norm1);
  collect(out, *l.norm2);
  collect(out, *l.norm3);
}
std::vector<Variable*> parameters_of(nn::Seq2SeqTransformer& m) {
  std::vector<Variable*> out{&m.src_embed->weight, &m.tgt_embed->weight};
  if (m.src_pos) {
    out.push_back(&m.src_pos->weight);
    out.push_back(&m.tgt_pos->weight);
  }
  for (auto& l : m.encoder->layers) collect(out, *l);
  for (auto& l : m.decoder->layers) collect(out, *l);
  if (m.encoder->norm) collect(out, *m.encoder->norm);
  if (m.decoder->norm) collect(out, *m.decoder->norm);
  if (m.output_proj) collect(out, *m.output_proj);
  if (m.output_bias.defined()) out.push_back(&m.output_bias);
  return out;
}

std::vector<std::string> names_of(const nn::Module& m) {
  std::vector<std::string> names;
  for (const auto& [name, p] : m.named_parameters()) names.push_back(name);
  return names;
}

// PyTorch's names with its packed in_proj_weight / in_proj_bias replaced by
// heed's three projections, in the order heed registers them.
std::vector<std::string> unpacked(const std::vector<std::string>& torch_names) {
  std::vector<std::string> out;
  for (const std::string& name : torch_names) {
    auto at = name.find("in_proj_");
    if (at == std::string::npos) {
      out.push_back(name);
      continue;
    }
    std::string prefix = name.substr(0, at), kind = name.substr(at + 8);  // "weight" or "bias"
    for (const char* proj : {"q_proj.", "k_proj.", "v_proj."}) out.push_back(prefix + proj + kind);
  }
  // heed lists q, k, v weight and bias per projection; PyTorch both weights first.
  std::vector<std::string> ordered;
  for (size_t i = 0; i < out.size();) {
    if (out[i].find("q_proj.weight") != std::string::npos && i + 5 < out.size()) {
      for (int j : {0, 3, 1, 4, 2, 5}) ordered.push_back(out[i + j]);
      i += 6;
    } else {
      ordered.push_back(out[i++]);
    }
  }
  return ordered;
}

// Fills t (rows, cols) with 0.1 ((3i + 5j + salt) mod 7 - 3), as
// transformer_by_hand.py does.
void fix(const Variable& p, int64_t salt, float plus = 0.0f) {
  const Tensor& t = p.value();
  const int64_t rows = t.dim() == 2 ? t.size(0) : 1, cols = t.size(-1);
  std::vector<float> v;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) v.push_back(plus + 0.1f * float((i * 3 + j * 5 + salt) % 7 - 3));
  NoGradGuard no_grad;
  copy_(t, from_vector(v, t.shape()));
}

// Ids in [0, vocab) from their own seed: (B, T).
Tensor ids(int64_t B, int64_t T, int64_t vocab, uint64_t seed) {
  Generator gen(seed);
  std::vector<float> v(B * T);
  for (float& x : v) x = float(gen.randint(vocab));
  return from_vector(v, {B, T});
}

float max_abs_diff(const Tensor& a, const Tensor& b) { return amax(abs(sub(a, b))).item(); }

}  // namespace

TEST_CASE("a post-norm encoder layer with fixed weights matches numbers computed by hand (2 tokens, d = 4)") {
  nn::TransformerEncoderLayer layer({.d_model = 4, .nhead = 2, .dim_feedforward = 3, .dropout = 0.0f});
  auto& a = *layer.self_attn;
  int64_t salt = 1;
  for (auto* l : {a.q_proj.get(), a.k_proj.get(), a.v_proj.get(), a.out_proj.get()}) fix(l->weight, salt++);
  for (auto* l : {a.q_proj.get(), a.k_proj.get(), a.v_proj.get(), a.out_proj.get()}) fix(l->bias, salt++);
  fix(layer.linear1->weight, 9);
  fix(layer.linear1->bias, 10);
  fix(layer.linear2->weight, 11);
  fix(layer.linear2->bias, 12);
  fix(layer.norm1->weight, 13, 1.0f);
  fix(layer.norm1->bias, 14);
  fix(layer.norm2->weight, 15, 1.0f);
  fix(layer.norm2->bias, 16);
  std::vector<float> xs;
  for (int64_t i = 0; i < 8; ++i) xs.push_back(0.5f * float((i * 3) % 5 - 2));
  Tensor x = from_vector(xs, {1, 2, 4});
  // Printed by tests/nn/transformer_by_hand.py (plain Python arithmetic, in
  // double): softmax per head, out_proj, x + attention, layer norm, relu
  // feed-forward, residual, layer norm.
  Tensor expected = Tensor{{-1.3640150f, 1.0751180f, 0.0996859f, 0.5520873f},
                           {-0.4333422f, -1.4751462f, 2.0634392f, -0.3360593f}};
  CHECK(max_abs_diff(reshape(layer.forward(x).value(), {2, 4}), expected) < 1e-5f);
  // Token 1 hidden as padding: both queries see token 0 only.
  Tensor padded = Tensor{{-1.3479405f, 1.1390352f, 0.0691366f, 0.5147480f},
                         {-0.1390276f, -1.5595903f, 1.9995926f, -0.5564639f}};
  Tensor out = layer.forward(x, {.key_padding = Tensor{{0, 1}}}).value();
  CHECK(max_abs_diff(reshape(out, {2, 4}), padded) < 1e-5f);
}

TEST_CASE("encoder layers pass gradcheck for the input and every parameter, pre- and post-norm") {
  for (bool norm_first : {false, true})
    for (auto activation : {nn::Activation::relu, nn::Activation::gelu}) {
      nn::TransformerEncoderLayer layer({.d_model = 4,
                                         .nhead = 2,
                                         .dim_feedforward = 6,
                                         .dropout = 0.0f,
                                         .activation = activation,
                                         .norm_first = norm_first,
                                         .seed = 3});
      std::vector<Variable*> params;
      collect(params, layer);
      INFO(layer.describe());
      CHECK(testing::gradcheck_layer(
          params,
          [&](const Vars& in) {
            return layer.forward(in[0], {.key_padding = Tensor{{0, 0, 1}, {0, 0, 0}}});
          },
          {randn_({2, 3, 4}, 4)}));
    }
}

TEST_CASE("decoder layers pass gradcheck for target, memory and every parameter, pre- and post-norm") {
  for (bool norm_first : {false, true}) {
    nn::TransformerDecoderLayer layer(
        {.d_model = 4,
         .nhead = 2,
         .dim_feedforward = 6,
         .dropout = 0.0f,
         .activation = nn::Activation::gelu,  // relu's kink trips finite differences
         .norm_first = norm_first,
         .seed = 5});
    std::vector<Variable*> params;
    collect(params, layer);
    INFO(layer.describe());
    CHECK(testing::gradcheck_layer(params,
                                   [&](const Vars& in) {
                                     return layer.forward(
                                         in[0], in[1], {.causal = true},
                                         {.key_padding = Tensor{{0, 0, 0, 1}, {0, 0, 0, 0}}});
                                   },
                                   {randn_({2, 3, 4}, 6), randn_({2, 4, 4}, 7)}));
  }
}

TEST_CASE("the model's cross-entropy loss passes gradcheck for every parameter, with each kind of position") {
  for (auto positions :
       {nn::Positions::sinusoidal, nn::Positions::learned, nn::Positions::relative, nn::Positions::rotary}) {
    nn::Seq2SeqTransformer model({.src_vocab = 5,
                                  .tgt_vocab = 6,
                                  .d_model = 4,
                                  .nhead = 2,
                                  .num_encoder_layers = 1,
                                  .num_decoder_layers = 1,
                                  .dim_feedforward = 6,
                                  .dropout = 0.0f,
                                  .activation = nn::Activation::gelu,
                                  .norm_first = positions == nn::Positions::relative,
                                  .positions = positions,
                                  .max_length = 8,
                                  .max_relative_distance = 2,
                                  .tie_weights = positions == nn::Positions::learned,
                                  .seed = 11});
    Tensor source = ids(2, 4, 5, 12), target = ids(2, 3, 6, 13), labels = ids(2, 3, 6, 14);
    Tensor padding = Tensor{{0, 0, 0, 0}, {0, 0, 1, 1}};
    nn::CrossEntropyLoss criterion;
    INFO(model.describe());
    CHECK(testing::gradcheck_layer(
        parameters_of(model),
        [&](const Vars&) { return criterion(model.forward(source, target, padding), labels); }, {}));
  }
}

TEST_CASE("layer parameter names are PyTorch's, with the packed in_proj split into q_proj, k_proj, v_proj") {
  nn::TransformerEncoderLayer enc({.d_model = 8, .nhead = 2, .dim_feedforward = 16});
  // nn.TransformerEncoderLayer(8, 2, 16).state_dict().keys()
  std::vector<std::string> torch_encoder{"self_attn.in_proj_weight",
                                         "self_attn.in_proj_bias",
                                         "self_attn.out_proj.weight",
                                         "self_attn.out_proj.bias",
                                         "linear1.weight",
                                         "linear1.bias",
                                         "linear2.weight",
                                         "linear2.bias",
                                         "norm1.weight",
                                         "norm1.bias",
                                         "norm2.weight",
                                         "norm2.bias"};
  CHECK(names_of(enc) == unpacked(torch_encoder));
  CHECK(names_of(enc) == std::vector<std::string>{
                             "self_attn.q_proj.weight", "self_attn.q_proj.bias", "self_attn.k_proj.weight",
                             "self_attn.k_proj.bias", "self_attn.v_proj.weight", "self_attn.v_proj.bias",
                             "self_attn.out_proj.weight", "self_attn.out_proj.bias", "linear1.weight",
                             "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias",
                             "norm2.weight", "norm2.bias"});

  nn::TransformerDecoderLayer dec({.d_model = 8, .nhead = 2, .dim_feedforward = 16});
  // nn.TransformerDecoderLayer(8, 2, 16).state_dict().keys()
  std::vector<std::string> torch_decoder{"self_attn.in_proj_weight",
                                         "self_attn.in_proj_bias",
                                         "self_attn.out_proj.weight",
                                         "self_attn.out_proj.bias",
                                         "multihead_attn.in_proj_weight",
                                         "multihead_attn.in_proj_bias",
                                         "multihead_attn.out_proj.weight",
                                         "multihead_attn.out_proj.bias",
                                         "linear1.weight",
                                         "linear1.bias",
                                         "linear2.weight",
                                         "linear2.bias",
                                         "norm1.weight",
                                         "norm1.bias",
                                         "norm2.weight",
                                         "norm2.bias",
                                         "norm3.weight",
                                         "norm3.bias"};
  CHECK(names_of(dec) == unpacked(torch_decoder));

  // The stacks: nn.Transformer's encoder.layers.N..., encoder.norm, decoder.norm.
  nn::Seq2SeqTransformer model({.src_vocab = 7,
                                .tgt_vocab = 9,
                                .d_model = 8,
                                .nhead = 2,
                                .num_encoder_layers = 2,
                                .num_decoder_layers = 2,
                                .dim_feedforward = 16});
  std::vector<std::string> names = names_of(model);
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  for (const char* n : {"src_embed.weight", "tgt_embed.weight", "encoder.layers.0.self_attn.q_proj.weight",
                        "encoder.layers.1.linear2.bias", "encoder.norm.weight",
                        "decoder.layers.1.multihead_attn.out_proj.weight", "decoder.layers.0.norm3.bias",
                        "decoder.norm.bias", "output_proj.weight", "output_proj.bias"})
    CHECK_MESSAGE(has(n), n);
  CHECK(names.size() == 2 + 2 * 16 + 2 + 2 * 26 + 2 + 2);
}

TEST_CASE(
    "weights of the target embedding and the output projection tied: one parameter, gradients from both "
    "uses") {
  nn::Seq2SeqTransformerOptions o{.src_vocab = 5,
                                  .tgt_vocab = 7,
                                  .d_model = 8,
                                  .nhead = 2,
                                  .num_encoder_layers = 1,
                                  .num_decoder_layers = 1,
                                  .dim_feedforward = 16,
                                  .dropout = 0.0f,
                                  .seed = 21};
  nn::Seq2SeqTransformer untied(o);
  o.tie_weights = true;
  nn::Seq2SeqTransformer tied(o);
  CHECK(tied.output_proj == nullptr);
  CHECK(untied.num_parameters() - tied.num_parameters() ==
        7 * 8);  // the output weight is not a second tensor
  int64_t shared = 0;
  for (const auto& [name, p] : tied.named_parameters()) {
    CHECK(name != "output_proj.weight");
    shared += p.impl() == tied.tgt_embed->weight.impl();
  }
  CHECK(shared == 1);

  // Symbols 5 and 6 never enter the decoder, so their rows' gradient comes from
  // the output projection alone; row 1 gets both.
  Tensor source = ids(2, 3, 5, 22), target = Tensor{{0, 1, 2}, {3, 4, 1}},
         labels = Tensor{{1, 2, 3}, {4, 1, 0}};
  nn::CrossEntropyLoss criterion;
  criterion(tied.forward(source, target), labels).backward();
  Tensor g = tied.tgt_embed->weight.grad();
  CHECK(amax(abs(select(g, 0, 6))).item() > 0.0f);
  // The embedding use alone: the same loss through an output projection with
  // a detached copy of the weight.
  tied.zero_grad();
  Variable memory = tied.encode(source);
  Variable y = tied.decoder->forward(
      tied.tgt_embed->forward(target) * std::sqrt(8.0f) + narrow(tied.sinusoidal->pe, 0, 0, 3), memory,
      {.causal = true});
  criterion(nn::linear(y, Variable(clone(tied.tgt_embed->weight.value())), tied.output_bias), labels)
      .backward();
  Tensor from_embedding = tied.tgt_embed->weight.grad();
  CHECK(amax(abs(select(from_embedding, 0, 6))).item() == 0.0f);
  CHECK(amax(abs(select(from_embedding, 0, 1))).item() > 0.0f);
  CHECK(max_abs_diff(g, from_embedding) > 1e-4f);  // the output use adds its own share
}

TEST_CASE("a padded source position is hidden: changing its symbol changes no logit") {
  nn::Seq2SeqTransformer model({.src_vocab = 9,
                                .tgt_vocab = 9,
                                .d_model = 8,
                                .nhead = 2,
                                .num_encoder_layers = 2,
                                .num_decoder_layers = 1,
                                .dim_feedforward = 16,
                                .seed = 31});
  model.eval();
  Tensor source = ids(2, 5, 9, 32), target = ids(2, 4, 9, 33);
  Tensor padding = nn::key_padding_mask({5, 3}, 5);
  Tensor changed = clone(source);
  changed.at({1, 3}) = float((int(source.at({1, 3})) + 1) % 9);
  changed.at({1, 4}) = float((int(source.at({1, 4})) + 4) % 9);
  Tensor a = model.forward(source, target, padding).value(),
         b = model.forward(changed, target, padding).value();
  CHECK(max_abs_diff(a, b) < 1e-6f);
  // Without the mask the change is seen, so the test above is not vacuous.
  CHECK(max_abs_diff(model.forward(source, target).value(), model.forward(changed, target).value()) > 1e-3f);
}

TEST_CASE("with the key/value caches, each decoding step equals a full re-run on the prefix (1e-5)") {
  for (auto positions :
       {nn::Positions::sinusoidal, nn::Positions::learned, nn::Positions::relative, nn::Positions::rotary})
    for (bool norm_first : {false, true}) {
      nn::Seq2SeqTransformer model({.src_vocab = 11,
                                    .tgt_vocab = 13,
                                    .d_model = 16,
                                    .nhead = 4,
                                    .num_encoder_layers = 2,
                                    .num_decoder_layers = 2,
                                    .dim_feedforward = 32,
                                    .norm_first = norm_first,
                                    .positions = positions,
                                    .max_length = 16,
                                    .max_relative_distance = 3,
                                    .tie_weights = norm_first,
                                    .seed = 41});
      model.eval();
      INFO(model.describe(), " norm_first=", norm_first);
      const int64_t B = 3, S = 5, T = 6;
      Tensor source = ids(B, S, 11, 42), target = ids(B, T, 13, 43);
      Tensor padding = nn::key_padding_mask({5, 2, 4}, S);
      std::unique_ptr<nn::Decoder> decoder = model.make_decoder(source, padding);
      for (int64_t t = 0; t < T; ++t) {
        Tensor step = decoder->step(contiguous(select(target, 1, t)));                      // (B, V)
        Tensor full = model.forward(source, narrow(target, 1, 0, t + 1), padding).value();  // (B, t + 1, V)
        Tensor last = log_softmax(contiguous(select(full, 1, t)), -1);
        CHECK(step.shape() == Shape{B, 13});
        CHECK(max_abs_diff(step, last) < 1e-5f);
      }
    }
}

TEST_CASE("reorder follows the surviving hypotheses: steps after it equal a full run on the reordered rows") {
  nn::Seq2SeqTransformer model({.src_vocab = 11,
                                .tgt_vocab = 13,
                                .d_model = 16,
                                .nhead = 2,
                                .num_encoder_layers = 1,
                                .num_decoder_layers = 2,
                                .dim_feedforward = 32,
                                .positions = nn::Positions::rotary,
                                .seed = 51});
  model.eval();
  Tensor source = ids(3, 4, 11, 52), target = ids(3, 5, 13, 53);
  Tensor padding = nn::key_padding_mask({4, 3, 2}, 4);
  std::unique_ptr<nn::Decoder> decoder = model.make_decoder(source, padding);
  decoder->step(contiguous(select(target, 1, 0)));
  decoder->step(contiguous(select(target, 1, 1)));
  const std::vector<int64_t> rows{2, 0, 0, 1};  // a row may repeat, N may change
  decoder->reorder(rows);
  Tensor index = Tensor{2, 0, 0, 1};
  Tensor src = index_select(source, 0, index), tgt = index_select(target, 0, index),
         pad = index_select(padding, 0, index);
  for (int64_t t = 2; t < 5; ++t) {
    Tensor step = decoder->step(contiguous(select(tgt, 1, t)));
    Tensor full = model.forward(src, narrow(tgt, 1, 0, t + 1), pad).value();
    CHECK(max_abs_diff(step, log_softmax(contiguous(select(full, 1, t)), -1)) < 1e-5f);
  }
  CHECK_THROWS_AS(decoder->reorder({4}), Error);
  decoder->reorder({});  // every hypothesis finished: nothing left to carry
  CHECK(decoder->step(Tensor(zeros({0}))).shape() == Shape{0, 13});
}

TEST_CASE("the decoder layer's cached memory gives the cross-attention of the full pass") {
  nn::TransformerDecoderLayer layer(
      {.d_model = 8, .nhead = 2, .dim_feedforward = 16, .dropout = 0.0f, .seed = 61});
  Tensor tgt = randn_({2, 3, 8}, 62), memory = randn_({2, 5, 8}, 63);
  nn::AttentionMasks memory_masks{.key_padding = nn::key_padding_mask({5, 1}, 5)};
  Tensor full = layer.forward(tgt, memory, {.causal = true}, memory_masks).value();
  nn::TransformerDecoderLayerCache cache;
  for (int64_t t = 0; t < 3; ++t) {
    Tensor out = layer.forward(narrow(tgt, 1, t, 1), memory, {.causal = true}, memory_masks, &cache).value();
    CHECK(max_abs_diff(out, narrow(full, 1, t, 1)) < 1e-5f);
  }
  CHECK(cache.self.length() == 3);
  CHECK(cache.memory_k.shape() == Shape{2, 2, 5, 4});
}

TEST_CASE("bad shapes and options are a heed::Error naming the layer") {
  CHECK_THROWS_WITH_AS(nn::TransformerEncoderLayer({.d_model = 6, .nhead = 4}),
                       doctest::Contains("TransformerEncoderLayer: d_model 6"), Error);
  nn::TransformerEncoderLayer layer({.d_model = 4, .nhead = 2, .dim_feedforward = 8});
  CHECK_THROWS_WITH_AS(layer.forward(randn_({2, 3, 5}, 1)), doctest::Contains("expected src (B, S, 4)"),
                       Error);
  nn::TransformerDecoderLayer dec({.d_model = 4, .nhead = 2, .dim_feedforward = 8});
  CHECK_THROWS_WITH_AS(dec.forward(randn_({2, 3, 4}, 1), randn_({3, 3, 4}, 2)),
                       doctest::Contains("expected memory (2, S, 4)"), Error);
  CHECK_THROWS_AS(nn::Seq2SeqTransformer({.src_vocab = 0, .tgt_vocab = 3, .d_model = 4, .nhead = 2}), Error);
}

TEST_CASE(
    "greedy search through the caches emits what argmax over full re-runs emits, eos rows leaving the "
    "batch") {
  const int64_t V = 8, eos = 1, start = V;  // the start symbol is one past the outputs' 8
  nn::Seq2SeqTransformer model({.src_vocab = 8,
                                .tgt_vocab = V + 1,
                                .d_model = 16,
                                .nhead = 2,
                                .num_encoder_layers = 1,
                                .num_decoder_layers = 2,
                                .dim_feedforward = 32,
                                .positions = nn::Positions::relative,
                                .max_relative_distance = 2,
                                .seed = 71});
  model.eval();
  const int64_t B = 6;
  Tensor source = ids(B, 5, 8, 72), padding = nn::key_padding_mask({5, 4, 3, 5, 1, 2}, 5);
  std::unique_ptr<nn::Decoder> decoder = model.make_decoder(source, padding);
  std::vector<nn::Hypothesis> got = nn::greedy_search(
      *decoder, B, {.max_new_tokens = 7, .decoder_start_token_id = start, .eos_token_id = eos});
  int64_t stopped = 0;
  for (int64_t b = 0; b < B; ++b) {
    Tensor src = narrow(source, 0, b, 1), pad = narrow(padding, 0, b, 1);
    std::vector<float> fed{float(start)};
    std::vector<int64_t> expected;
    while (int64_t(expected.size()) < 7 && (expected.empty() || expected.back() != eos)) {
      Tensor logits = model.forward(src, from_vector(fed, {1, int64_t(fed.size())}), pad).value();
      int64_t next = int64_t(argmax(select(select(logits, 0, 0), 0, int64_t(fed.size()) - 1), -1).item());
      expected.push_back(next);
      fed.push_back(float(next));
    }
    CHECK(got[b].tokens == expected);
    stopped += expected.back() == eos;
  }
  CHECK(stopped > 0);  // some rows did leave the batch early
}

TEST_CASE("beam search with one beam equals greedy search for the Transformer") {
  nn::Seq2SeqTransformer model({.src_vocab = 8,
                                .tgt_vocab = 9,
                                .d_model = 16,
                                .nhead = 2,
                                .num_encoder_layers = 1,
                                .num_decoder_layers = 1,
                                .dim_feedforward = 32,
                                .norm_first = true,
                                .seed = 81});
  model.eval();
  Tensor source = ids(4, 6, 8, 82);
  auto greedy = model.make_decoder(source);
  std::vector<nn::Hypothesis> g =
      nn::greedy_search(*greedy, 4, {.max_new_tokens = 6, .decoder_start_token_id = 8, .eos_token_id = 2});
  auto beam = model.make_decoder(source);
  std::vector<std::vector<nn::Hypothesis>> b = nn::beam_search(
      *beam, 4, {.num_beams = 1, .max_new_tokens = 6, .decoder_start_token_id = 8, .eos_token_id = 2});
  for (int64_t i = 0; i < 4; ++i) {
    CHECK(b[i][0].tokens == g[i].tokens);
    CHECK(b[i][0].log_prob == doctest::Approx(g[i].log_prob).epsilon(1e-5));
  }
  // A wider beam finds a sequence at least as likely under length_penalty 0.
  auto wide = model.make_decoder(source);
  std::vector<std::vector<nn::Hypothesis>> w = nn::beam_search(*wide, 4,
                                                               {.num_beams = 4,
                                                                .max_new_tokens = 6,
                                                                .decoder_start_token_id = 8,
                                                                .eos_token_id = 2,
                                                                .length_penalty = 0.0f});
  for (int64_t i = 0; i < 4; ++i) CHECK(w[i][0].log_prob >= g[i].log_prob - 1e-5);
}

TEST_CASE("dropout acts in training only: two training passes differ, evaluation passes agree") {
  nn::TransformerDecoderLayer layer(
      {.d_model = 8, .nhead = 2, .dim_feedforward = 16, .dropout = 0.5f, .seed = 91});
  CHECK(layer.dropout != nullptr);
  CHECK(layer.dropout3 != nullptr);
  Tensor tgt = randn_({2, 3, 8}, 92), memory = randn_({2, 4, 8}, 93);
  auto run = [&] { return layer.forward(tgt, memory, {.causal = true}).value(); };
  CHECK(max_abs_diff(run(), run()) > 1e-3f);
  layer.eval();
  CHECK(max_abs_diff(run(), run()) == 0.0f);
  nn::TransformerEncoderLayer plain({.d_model = 8, .nhead = 2, .dim_feedforward = 16, .dropout = 0.0f});
  CHECK(plain.dropout == nullptr);  // p = 0 registers no Dropout at all
}
