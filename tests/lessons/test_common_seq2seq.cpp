// The course's RNN encoder-decoder (lessons/common/seq2seq.h), which lessons
// 05-08 train: shapes, attention rows, decoding paths that agree, padding.
#include <doctest/doctest.h>

#include <string>

#include "lessons/common/seq2seq.h"
#include "tests/testing.h"

using namespace heed;
using course::AttentionKind;

namespace {

constexpr AttentionKind kKinds[] = {AttentionKind::none,         AttentionKind::bahdanau,
                                    AttentionKind::luong_dot,    AttentionKind::luong_general,
                                    AttentionKind::luong_concat, AttentionKind::luong_location,
                                    AttentionKind::luong_local_p};

course::Seq2Seq model_of(AttentionKind kind) {
  return course::Seq2Seq({.source_vocab = 9,
                          .target_vocab = 11,
                          .embed = 8,
                          .hidden = 16,
                          .attention = kind,
                          .bos = 1,
                          .max_source_length = 7,
                          .half_window = 2,
                          .seed = 3});
}

Tensor ids(const std::vector<float>& values, int64_t B) {
  return from_vector(values, {B, int64_t(values.size()) / B});
}

}  // namespace

// local-p's rows sum to at most 1: the softmax times the Gaussian window, as in the paper.
TEST_CASE("seq2seq: logits (B, T, V) and attention rows (B, T, S) that sum to 1") {
  const Tensor source = ids({4, 5, 6, 7, 8, 3, 2, 4, 5, 6}, 2), target = ids({3, 4, 5, 6, 7, 8}, 2);
  for (AttentionKind kind : kKinds) {
    const std::string name = course::name_of(kind);
    CAPTURE(name);
    course::Seq2Seq model = model_of(kind);
    course::Seq2SeqOutput out = model.forward(source, Tensor(), target);
    CHECK(out.logits.shape() == Shape{2, 3, 11});
    if (kind == AttentionKind::none) {
      CHECK_FALSE(out.weights.defined());
      continue;
    }
    REQUIRE(out.weights.shape() == Shape{2, 3, 5});
    const Tensor rows = sum(out.weights.value(), {2});
    for (int64_t i = 0; i < rows.numel(); ++i) {
      if (kind == AttentionKind::luong_local_p)
        CHECK((rows.data()[i] > 0.0f && rows.data()[i] <= 1.0f + 1e-6f));
      else
        CHECK(rows.data()[i] == doctest::Approx(1.0).epsilon(1e-5));
    }
  }
}

TEST_CASE("seq2seq: greedy(), nn::greedy_search and beam width 1 decode the same symbols") {
  const Tensor source = ids({4, 5, 6, 7, 8, 3, 2, 4, 5, 6}, 2);
  for (AttentionKind kind : kKinds) {
    const std::string name = course::name_of(kind);
    CAPTURE(name);
    course::Seq2Seq model = model_of(kind);
    const Tensor greedy = model.greedy(source, Tensor(), 6).ids;
    auto decoder = model.make_decoder(source, Tensor());
    auto searched = nn::greedy_search(*decoder, 2, {.max_new_tokens = 6, .decoder_start_token_id = 1});
    auto beam = nn::beam_search(*model.make_decoder(source, Tensor()), 2,
                                {.num_beams = 1, .max_new_tokens = 6, .decoder_start_token_id = 1});
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t t = 0; t < 6; ++t) {
        CHECK(searched[b].tokens[t] == int64_t(greedy.at({b, t})));
        CHECK(beam[b][0].tokens[t] == int64_t(greedy.at({b, t})));
      }
  }
}

TEST_CASE("seq2seq: padding a source changes nothing, and padded keys get zero attention") {
  // Row 1 padded to 5: the same logits as row 1 alone at its length 3.
  const Tensor padded = ids({4, 5, 6, 7, 8, 3, 2, 4, 0, 0}, 2),
               padding = ids({0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, 2);
  const Tensor alone = ids({3, 2, 4}, 1), target = ids({3, 4, 5, 6}, 2);
  for (AttentionKind kind : kKinds) {
    if (kind == AttentionKind::luong_location) continue;  // its scores are per absolute position
    const std::string name = course::name_of(kind);
    CAPTURE(name);
    course::Seq2Seq model = model_of(kind);
    course::Seq2SeqOutput both = model.forward(padded, padding, target);
    course::Seq2SeqOutput one = model.forward(alone, Tensor(), narrow(target, 0, 1, 1));
    const Tensor diff = abs(sub(narrow(both.logits.value(), 0, 1, 1), one.logits.value()));
    CHECK(amax(diff).item() < 1e-5f);
    if (both.weights.defined())
      CHECK(sum(narrow(narrow(both.weights.value(), 0, 1, 1), 2, 3, 2)).item() == 0.0f);
  }
}

TEST_CASE("seq2seq: a bidirectional encoder ignores padding too, and decodes alike on every path") {
  const Tensor padded = ids({4, 5, 6, 7, 8, 3, 2, 4, 0, 0}, 2),
               padding = ids({0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, 2);
  const Tensor alone = ids({3, 2, 4}, 1), target = ids({3, 4, 5, 6}, 2);
  for (AttentionKind kind : {AttentionKind::none, AttentionKind::bahdanau, AttentionKind::luong_general}) {
    const std::string name = course::name_of(kind);
    CAPTURE(name);
    course::Seq2Seq model({.source_vocab = 9,
                           .target_vocab = 11,
                           .embed = 8,
                           .hidden = 16,
                           .attention = kind,
                           .bidirectional = true,
                           .bos = 1,
                           .seed = 3});
    // The backward direction starts at each sequence's last true word, not at the padding.
    course::Seq2SeqOutput both = model.forward(padded, padding, target);
    course::Seq2SeqOutput one = model.forward(alone, Tensor(), narrow(target, 0, 1, 1));
    CHECK(amax(abs(sub(narrow(both.logits.value(), 0, 1, 1), one.logits.value()))).item() < 1e-5f);
    const Tensor greedy = model.greedy(padded, padding, 6).ids;
    auto beam = nn::beam_search(*model.make_decoder(padded, padding), 2,
                                {.num_beams = 1, .max_new_tokens = 6, .decoder_start_token_id = 1});
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t t = 0; t < 6; ++t) CHECK(beam[b][0].tokens[t] == int64_t(greedy.at({b, t})));
  }
  CHECK_THROWS_AS(
      course::Seq2Seq({.source_vocab = 9, .target_vocab = 11, .hidden = 15, .bidirectional = true}),
      heed::Error);
}
