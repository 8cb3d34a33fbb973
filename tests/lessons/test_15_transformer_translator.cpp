#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "lessons/15_transformer_translator/exercises.h"
#include "nn/attention/scaled_dot_product.h"
#include "nn/generate.h"
#include "tensor/random.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

std::string lengths_string(const std::vector<int64_t>& lengths) {
  std::ostringstream out;
  out << "{";
  for (size_t i = 0; i < lengths.size(); ++i) out << (i ? ", " : "") << lengths[i];
  out << "}";
  return out.str();
}

// Small models of both norms and depths; dropout on, but graded in eval mode.
nn::Seq2SeqTransformer small_model(int64_t layers, bool norm_first, uint64_t seed) {
  nn::Seq2SeqTransformer model({.src_vocab = 7,
                                .tgt_vocab = 9,
                                .d_model = 8,
                                .nhead = 2,
                                .num_encoder_layers = layers,
                                .num_decoder_layers = layers,
                                .dim_feedforward = 17,
                                .dropout = 0.1f,
                                .norm_first = norm_first,
                                .max_length = 32,
                                .seed = seed});
  model.eval();
  return model;
}

struct Sources {
  Tensor ids, padding;  // (B, S): ids in 1..6 then 0 at padding
};
Sources sources_of(const std::vector<int64_t>& lengths, int64_t S, Generator& gen) {
  const int64_t B = int64_t(lengths.size());
  Sources s{zeros({B, S}), zeros({B, S})};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < S; ++t) {
      if (t < lengths[size_t(b)])
        s.ids.at({b, t}) = float(1 + gen.randint(6));
      else
        s.padding.at({b, t}) = 1.0f;
    }
  return s;
}

constexpr int64_t kStart = 8;  // the last target row: a start symbol the model never has to predict

}  // namespace

TEST_CASE("lesson 15, exercise 1: the masks of a padded batch") {
  struct Case {
    std::vector<int64_t> source_lengths, target_lengths;
    int64_t S, T;
  };
  Generator gen(15);
  for (const Case& c : std::vector<Case>{{{1}, {1}, 1, 1},
                                         {{5, 3, 1}, {2, 7, 4}, 5, 7},
                                         {{17, 9}, {3, 1}, 17, 3},
                                         {{4, 4, 2, 1}, {5, 5, 5, 5}, 6, 5}}) {
    const int64_t B = int64_t(c.source_lengths.size()), S = c.S, T = c.T;
    const std::string input = "source lengths " + lengths_string(c.source_lengths) + ", target lengths " +
                              lengths_string(c.target_lengths) + ", S " + std::to_string(S) + ", T " +
                              std::to_string(T);
    // What each attention must hide, element by element.
    Tensor encoder_self = zeros({B, 1, S, S}), decoder_self = zeros({B, 1, T, T}),
           cross = zeros({B, 1, T, S});
    for (int64_t b = 0; b < B; ++b) {
      const int64_t ls = c.source_lengths[size_t(b)], lt = c.target_lengths[size_t(b)];
      for (int64_t i = 0; i < S; ++i)
        for (int64_t j = 0; j < S; ++j) encoder_self.at({b, 0, i, j}) = j >= ls ? 1.0f : 0.0f;
      for (int64_t i = 0; i < T; ++i) {
        for (int64_t j = 0; j < T; ++j) decoder_self.at({b, 0, i, j}) = j > i || j >= lt ? 1.0f : 0.0f;
        for (int64_t j = 0; j < S; ++j) cross.at({b, 0, i, j}) = j >= ls ? 1.0f : 0.0f;
      }
    }
    const lesson15::BatchMasks yours = lesson15::batch_masks(c.source_lengths, c.target_lengths, S, T);
    testing::expect_close(15, 1, input + " (encoder_self)", encoder_self, yours.encoder_self, 0);
    testing::expect_close(15, 1, input + " (decoder_self)", decoder_self, yours.decoder_self, 0);
    testing::expect_close(15, 1, input + " (cross)", cross, yours.cross, 0);

    // The same masks as heed's attention layer builds them from key_padding and causal.
    nn::MultiHeadAttention mha({.embed_dim = 8, .num_heads = 2, .seed = 3});
    const Variable x(randn({B, S, 8}, gen)), y(randn({B, T, 8}, gen));
    const Tensor source_padding = nn::key_padding_mask(c.source_lengths, S),
                 target_padding = nn::key_padding_mask(c.target_lengths, T);
    if (yours.encoder_self.defined() && yours.decoder_self.defined() && yours.cross.defined()) {
      testing::expect_close(15, 1, input + " (encoder self-attention weights with your mask)",
                            mha.forward(x, {.key_padding = source_padding}).weights.value(),
                            mha.forward(x, {.attn = yours.encoder_self}).weights.value(), 0);
      testing::expect_close(15, 1, input + " (decoder self-attention weights with your mask)",
                            mha.forward(y, {.key_padding = target_padding, .causal = true}).weights.value(),
                            mha.forward(y, {.attn = yours.decoder_self}).weights.value(), 0);
      testing::expect_close(15, 1, input + " (cross-attention weights with your mask)",
                            mha.forward(y, x, x, {.key_padding = source_padding}).weights.value(),
                            mha.forward(y, x, x, {.attn = yours.cross}).weights.value(), 0);
    }
  }
}

TEST_CASE("lesson 15, exercise 2: greedy decoding through the key/value caches") {
  Generator gen(16);
  struct Case {
    int64_t layers;
    bool norm_first;
    std::vector<int64_t> lengths;
    int64_t max_new_tokens;
  };
  uint64_t seed = 30;
  for (const Case& c : std::vector<Case>{{1, true, {3}, 1},
                                         {1, false, {5, 2, 4}, 6},
                                         {2, true, {1, 7, 7, 3, 5}, 9},
                                         {2, false, {4, 4}, 17}}) {
    nn::Seq2SeqTransformer model = small_model(c.layers, c.norm_first, seed++);
    const int64_t S = *std::max_element(c.lengths.begin(), c.lengths.end());
    const Sources src = sources_of(c.lengths, S, gen);
    // An eos the untrained model does emit: row 0's second symbol, so rows stop at different steps.
    const std::vector<nn::Hypothesis> free_run =
        nn::greedy_search(*model.make_decoder(src.ids, src.padding), int64_t(c.lengths.size()),
                          {.max_new_tokens = c.max_new_tokens, .decoder_start_token_id = kStart});
    const int64_t eos = free_run[0].tokens[std::min<size_t>(1, free_run[0].tokens.size() - 1)];
    const std::vector<nn::Hypothesis> expected = nn::greedy_search(
        *model.make_decoder(src.ids, src.padding), int64_t(c.lengths.size()),
        {.max_new_tokens = c.max_new_tokens, .decoder_start_token_id = kStart, .eos_token_id = eos});
    std::ostringstream input;
    input << c.layers << " layer(s), " << (c.norm_first ? "pre-norm" : "post-norm") << ", source lengths "
          << lengths_string(c.lengths) << ", start " << kStart << ", eos " << eos << ", max_new_tokens "
          << c.max_new_tokens;

    std::vector<nn::TransformerDecoderLayerCache> caches;
    const std::vector<std::vector<int64_t>> computed =
        lesson15::greedy_translate(model, src.ids, src.padding, kStart, eos, c.max_new_tokens, caches);
    testing::expect_true(15, 2, input.str(), computed.size() == expected.size(),
                         "expected one translation per source: " + std::to_string(expected.size()) +
                             ", got " + std::to_string(computed.size()));
    size_t longest = 0;
    for (size_t b = 0; b < std::min(computed.size(), expected.size()); ++b) {
      longest = std::max(longest, expected[b].tokens.size());
      testing::expect_true(15, 2, input.str() + ", source " + std::to_string(b),
                           computed[b] == expected[b].tokens,
                           "your symbols " + lengths_string(computed[b]) + ", nn::greedy_search's " +
                               lengths_string(expected[b].tokens));
    }
    testing::expect_true(15, 2, input.str(), caches.size() == model.decoder->layers.size(),
                         "expected one cache per decoder layer (" +
                             std::to_string(model.decoder->layers.size()) + "), got " +
                             std::to_string(caches.size()));
    for (size_t l = 0; l < caches.size(); ++l)
      testing::expect_true(15, 2, input.str() + ", layer " + std::to_string(l),
                           caches[l].self.length() == int64_t(longest) && caches[l].memory_k.defined(),
                           "the cache should hold the keys and values of the " + std::to_string(longest) +
                               " steps fed (one per symbol of the longest translation), and the memory's; it "
                               "holds " +
                               std::to_string(caches[l].self.length()) + " steps");
  }
}

TEST_CASE("lesson 15, exercise 3: reordering the caches for beam search") {
  Generator gen(17);
  uint64_t seed = 50;
  struct Case {
    int64_t layers;
    bool norm_first, padded;
    std::vector<int64_t> rows;
  };
  for (const Case& c : std::vector<Case>{{1, true, true, {2, 0, 0, 1}},
                                         {2, false, true, {1}},
                                         {2, true, false, {1, 1, 0}},
                                         {1, false, true, {0, 1, 2, 2, 1, 0, 2}}}) {
    nn::Seq2SeqTransformer model = small_model(c.layers, c.norm_first, seed++);
    const std::vector<int64_t> lengths =
        c.padded ? std::vector<int64_t>{4, 2, 3} : std::vector<int64_t>{3, 3, 3};
    const Sources src = sources_of(lengths, 4, gen);
    const Tensor padding = c.padded ? src.padding : Tensor();
    // Three steps of given symbols for each of the 3 sources, through the caches.
    const Tensor history =
        from_vector({float(kStart), 3, 5, float(kStart), 1, 1, float(kStart), 7, 2}, {3, 3});
    std::vector<nn::TransformerDecoderLayerCache> caches;
    NoGradGuard no_grad;
    const Variable memory = model.encode(src.ids, padding);
    for (int64_t t = 0; t < 3; ++t)
      model.decode(contiguous(narrow(history, 1, t, 1)), memory, padding, {}, &caches);

    Tensor reordered_padding = padding;
    lesson15::reorder_caches(caches, reordered_padding, c.rows);
    std::vector<float> picked;
    for (int64_t r : c.rows) picked.push_back(float(r));
    const int64_t N = int64_t(c.rows.size());
    const Tensor index = from_vector(picked, {N});
    std::ostringstream input;
    input << c.layers << " layer(s), " << (c.norm_first ? "pre-norm" : "post-norm") << ", 3 sources"
          << (c.padded ? " (padded)" : "") << " after 3 steps, rows " << lengths_string(c.rows);
    if (c.padded)
      testing::expect_close(15, 3, input.str() + " (source_padding)", index_select(padding, 0, index),
                            reordered_padding, 0);
    else
      testing::expect_true(15, 3, input.str(), !reordered_padding.defined(),
                           "an undefined source_padding (nothing padded) should stay undefined");

    // A fourth step from the reordered caches against decoding the chosen rows afresh.
    const Tensor next = from_vector(std::vector<float>(size_t(N), 4.0f), {N, 1});
    const Tensor cached =
        model.decode(next, Variable(), reordered_padding, {}, &caches).value();  // (N, 1, V)
    const Tensor prefix = cat({index_select(history, 0, index), next}, 1);       // (N, 4)
    const Tensor fresh = model
                             .forward(index_select(src.ids, 0, index), prefix,
                                      c.padded ? index_select(padding, 0, index) : Tensor())
                             .value();  // (N, 4, V)
    testing::expect_close(15, 3, input.str() + " (the next step's logits)", narrow(fresh, 1, 3, 1), cached,
                          1e-4);
  }
  // A row that is no hypothesis is an error, not a crash.
  nn::Seq2SeqTransformer model = small_model(1, true, 60);
  const Sources src = sources_of({2, 2}, 2, gen);
  std::vector<nn::TransformerDecoderLayerCache> caches;
  {
    NoGradGuard no_grad;
    model.decode(full({2, 1}, float(kStart)), model.encode(src.ids), Tensor(), {}, &caches);
  }
  for (int64_t bad : {2, -1}) {
    Tensor padding;
    std::string message;
    try {
      lesson15::reorder_caches(caches, padding, {0, bad});
    } catch (const NotImplemented&) {
      throw;
    } catch (const Error& e) {
      message = e.what();
    }
    testing::expect_true(15, 3, "2 hypotheses, rows {0, " + std::to_string(bad) + "}", !message.empty(),
                         "expected a heed::Error for a row outside [0, 2)");
  }
}
