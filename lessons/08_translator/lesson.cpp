// Lesson 08: the translator.
//
// Lessons 05-07 built the pieces: an encoder-decoder that squeezes a sentence
// into one vector (05), attention that lets the decoder look back at every
// source word (06, Bahdanau's additive score), and Luong's variants (07). This
// lesson puts them to work as a whole translator, and measures it the way
// machine translation is measured:
//
//   1. the corpus           English -> French pairs from a grammar that knows
//                           which English word each French word translates
//   2. the model            a bidirectional GRU encoder, Bahdanau attention,
//                           an input-feeding GRU decoder
//   3. training             teacher forcing, batches bucketed by length
//   4. greedy decoding      the most probable word, one at a time, to eos
//   5. beam search          K hypotheses at once, a length penalty to end them
//   6. BLEU                 n-gram overlap with the reference, on held-out sentences
//   7. alignment            does attention look at the word being translated?
//   8. heatmaps             attention matrices, on the terminal and as SVG
//   9. checkpoint           saved, reloaded into a fresh model, same translations
//
// Run it: `make lesson N=08` (or build/lessons/lesson_08 [--quick]).
#include "lessons/common/lesson.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "lessons/08_translator/beam_loop.h"
#include "lessons/08_translator/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/heatmap.h"
#include "lessons/common/progress.h"
#include "lessons/common/seq2seq.h"
#include "lessons/common/svg.h"
#include "lessons/common/translation.h"
#include "lessons/common/vocab.h"
#include "nn/nn.h"

using namespace heed;
using course::Seq2Seq;
using course::Vocab;

namespace {

// One sentence pair as ids: the source without bos or eos, the target ending
// with eos (the decoder must learn to stop), and the pair it came from.
struct Example {
  std::vector<int64_t> source, target;
  const course::SentencePair* pair = nullptr;
};

struct Data {
  course::TranslationCorpus corpus;
  Vocab english, french;
  std::vector<Example> train, validation, test;
};

Data make_data(const course::Lesson& lesson) {
  Data d;
  d.corpus = course::make_translation_corpus(
      {.train = lesson.pick<int64_t>(2000, 4000), .validation = 200, .test = 200, .seed = lesson.seed() + 1});
  // The vocabularies come from the training split only, as they would for real
  // text: a test word never seen in training becomes <unk>.
  std::vector<course::Tokens> english, french;
  for (const course::SentencePair& p : d.corpus.train) {
    english.push_back(p.english);
    french.push_back(p.french);
  }
  d.english = Vocab::build(english);
  d.french = Vocab::build(french);
  auto encode = [&](const std::vector<course::SentencePair>& pairs) {
    std::vector<Example> out;
    for (const course::SentencePair& p : pairs)
      out.push_back({d.english.encode(p.english), d.french.encode(p.french, false, true), &p});
    return out;
  };
  d.train = encode(d.corpus.train);
  d.validation = encode(d.corpus.validation);
  d.test = encode(d.corpus.test);
  return d;
}

struct Pairs {
  course::Batch source, target;
};
Pairs batch_of(const std::vector<Example>& examples, size_t begin, size_t end) {
  std::vector<std::vector<int64_t>> sources, targets;
  for (size_t i = begin; i < end; ++i) {
    sources.push_back(examples[i].source);
    targets.push_back(examples[i].target);
  }
  return {course::make_batch(sources), course::make_batch(targets)};
}

// The model of this lesson; `seed` only decides its initial weights.
course::Seq2SeqOptions model_options(const Data& d, uint64_t seed, bool bidirectional = true) {
  return {.source_vocab = d.english.size(),
          .target_vocab = d.french.size(),
          .embed = 32,
          .hidden = 64,
          .attention = course::AttentionKind::bahdanau,
          .bidirectional = bidirectional,
          .bos = Vocab::bos,
          .seed = seed};
}

std::string words(const Vocab& vocab, const std::vector<int64_t>& ids) {
  return course::join(vocab.decode(ids));
}

std::vector<int64_t> without_eos(std::vector<int64_t> ids) {
  if (!ids.empty() && ids.back() == Vocab::eos) ids.pop_back();
  return ids;
}

constexpr int64_t kEvalBatch = 100;
constexpr int64_t kMaxNewTokens = 30;  // the longest French sentence is far shorter

// Greedy translations of `examples` (eos kept, as nn::greedy_search gives them).
std::vector<std::vector<int64_t>> translate_greedy(Seq2Seq& model, const std::vector<Example>& examples) {
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; i < examples.size(); i += kEvalBatch) {
    const size_t end = std::min(examples.size(), i + kEvalBatch);
    const Pairs b = batch_of(examples, i, end);
    auto decoder = model.make_decoder(b.source.ids, b.source.padding);
    for (nn::Hypothesis& h : nn::greedy_search(*decoder, int64_t(end - i),
                                               {.max_new_tokens = kMaxNewTokens,
                                               .decoder_start_token_id = Vocab::bos,
                                               .eos_token_id = Vocab::eos}))
      out.push_back(std::move(h.tokens));
  }
  return out;
}

nn::BeamSearchOptions beam_options(int64_t beams, int64_t returned = 1) {
  return {.num_beams = beams,
          .max_new_tokens = kMaxNewTokens,
          .decoder_start_token_id = Vocab::bos,
          .eos_token_id = Vocab::eos,
          .length_penalty = 1.0f,
          .num_return_sequences = returned};
}

std::vector<std::vector<int64_t>> translate_beam(Seq2Seq& model, const std::vector<Example>& examples,
                                                 int64_t beams) {
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; i < examples.size(); i += kEvalBatch) {
    const size_t end = std::min(examples.size(), i + kEvalBatch);
    const Pairs b = batch_of(examples, i, end);
    auto decoder = model.make_decoder(b.source.ids, b.source.padding);
    for (auto& best : nn::beam_search(*decoder, int64_t(end - i), beam_options(beams)))
      out.push_back(std::move(best[0].tokens));
  }
  return out;
}

// Test BLEU of translations (eos dropped) against the one reference each.
nn::BleuScore bleu_of(const std::vector<std::vector<int64_t>>& translations,
                      const std::vector<Example>& examples) {
  std::vector<std::vector<int64_t>> hypotheses;
  std::vector<std::vector<std::vector<int64_t>>> references;
  for (size_t i = 0; i < examples.size(); ++i) {
    hypotheses.push_back(without_eos(translations[i]));
    references.push_back({without_eos(examples[i].target)});
  }
  return nn::corpus_bleu(hypotheses, references);
}

// Teacher-forced token accuracy: the share of target tokens (eos included)
// that are the argmax of their logits, when the decoder reads the reference.
double token_accuracy(Seq2Seq& model, const std::vector<Example>& examples) {
  NoGradGuard no_grad;
  int64_t right = 0, total = 0;
  for (size_t i = 0; i < examples.size(); i += kEvalBatch) {
    const Pairs b = batch_of(examples, i, std::min(examples.size(), i + kEvalBatch));
    const Tensor guess =
        argmax(model.forward(b.source.ids, b.source.padding, b.target.ids).logits.value(), -1);
    const Tensor counted = eq(b.target.padding, scalar(0.0f));
    right += int64_t(sum(mul(eq(guess, b.target.ids), counted)).item());
    total += int64_t(sum(counted).item());
  }
  return double(right) / double(total);
}

// Bucketing: pairs sorted by length, then cut into batches, so a batch pads
// little and its recurrence runs few wasted steps; the batches' order is
// shuffled every epoch.
std::vector<std::vector<size_t>> length_buckets(const std::vector<Example>& examples, size_t batch) {
  std::vector<size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Example &x = examples[a], &y = examples[b];
    return x.source.size() != y.source.size() ? x.source.size() < y.source.size()
                                              : x.target.size() < y.target.size();
  });
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < order.size(); i += batch)
    batches.emplace_back(order.begin() + i, order.begin() + std::min(order.size(), i + batch));
  return batches;
}

struct TrainOptions {
  int64_t epochs = 10, batch = 64;
  double lr = 3e-3, clip = 1.0;
  uint64_t seed = 0;
  bool show = true;  // the progress bar
};

void train(Seq2Seq& model, const Data& d, const TrainOptions& o) {
  nn::Adam adam(model.named_parameters(), {.lr = o.lr});
  const nn::CrossEntropyLoss criterion({.ignore_index = Vocab::pad});
  std::vector<std::vector<size_t>> batches = length_buckets(d.train, size_t(o.batch));
  Generator gen(o.seed);
  std::unique_ptr<course::Progress> progress;
  if (o.show)
    progress = std::make_unique<course::Progress>(course::ProgressOptions{
        .label = "training", .epochs = o.epochs, .steps_per_epoch = int64_t(batches.size())});
  model.train();
  for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
    for (size_t i = batches.size(); i > 1; --i)
      std::swap(batches[i - 1], batches[size_t(gen.randint(int64_t(i)))]);
    for (const std::vector<size_t>& rows : batches) {
      std::vector<Example> chosen;
      for (size_t r : rows) chosen.push_back(d.train[r]);
      const Pairs b = batch_of(chosen, 0, chosen.size());
      adam.zero_grad();
      // logits (B, T, V) against the targets (B, T); padding is ignored
      Variable loss =
          criterion(model.forward(b.source.ids, b.source.padding, b.target.ids).logits, b.target.ids);
      loss.backward();
      nn::clip_grad_norm(model.parameters(), o.clip);
      adam.step();
      if (progress)
        progress->step(loss.value().item(), int64_t(sum(eq(b.target.padding, scalar(0.0f))).item()));
    }
    if (progress) {
      char note[64];
      std::snprintf(note, sizeof note, "validation tokens %.1f%%", 100 * token_accuracy(model, d.validation));
      progress->end_epoch(note);
    }
  }
  model.eval();
}

// Attention under teacher forcing: the decoder reads the reference, so row t
// of a sentence's weights is the French word t it is about to predict.
// Returns one (B, T, S) tensor per batch of kEvalBatch examples.
std::vector<Tensor> attention_of(Seq2Seq& model, const std::vector<Example>& examples) {
  NoGradGuard no_grad;
  std::vector<Tensor> out;
  for (size_t i = 0; i < examples.size(); i += kEvalBatch) {
    const Pairs b = batch_of(examples, i, std::min(examples.size(), i + kEvalBatch));
    out.push_back(model.forward(b.source.ids, b.source.padding, b.target.ids).weights.value());
  }
  return out;
}

std::vector<std::vector<int>> alignments_of(const std::vector<Example>& examples, size_t begin, size_t end) {
  std::vector<std::vector<int>> out;
  for (size_t i = begin; i < end; ++i) out.push_back(examples[i].pair->alignment);
  return out;
}

// heed's count, to grade exercise 4 by, with the misses per French word.
struct AlignmentReport {
  int64_t correct = 0, total = 0;
  std::map<std::string, int64_t> misses;
};
AlignmentReport alignment_report(const std::vector<Tensor>& weights, const std::vector<Example>& examples) {
  AlignmentReport r;
  for (size_t k = 0; k < weights.size(); ++k) {
    const Tensor w = contiguous(weights[k]);  // (B, T, S)
    const int64_t T = w.size(1), S = w.size(2);
    for (int64_t b = 0; b < w.size(0); ++b) {
      const course::SentencePair& p = *examples[k * kEvalBatch + size_t(b)].pair;
      for (int64_t t = 0; t < int64_t(p.alignment.size()) && t < T; ++t) {
        if (p.alignment[t] < 0) continue;
        const float* row = w.data() + (b * T + t) * S;
        const bool right = std::max_element(row, row + S) - row == p.alignment[t];
        r.correct += right;
        ++r.total;
        if (!right) ++r.misses[p.french[t]];
      }
    }
  }
  return r;
}

std::string worst_misses(const AlignmentReport& r, size_t n) {
  std::vector<std::pair<int64_t, std::string>> by_count;
  for (const auto& [word, count] : r.misses) by_count.push_back({-count, word});
  std::sort(by_count.begin(), by_count.end());
  std::string out;
  for (size_t i = 0; i < by_count.size() && i < n; ++i)
    out += (i ? ", " : "") + by_count[i].second + " " + std::to_string(-by_count[i].first);
  return out.empty() ? "none" : out;
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 8, .topic = "translator", .title = "the translator"},
      [](const course::Lesson& lesson) {
        // A (64, 64) GRU step is too small to split over threads: the handover
        // costs more than it saves (with two threads on a busy machine, training
        // ran 20 times slower). Unless asked otherwise (--threads, HEED_THREADS,
        // OMP_NUM_THREADS), this lesson runs its kernels on one thread.
        if (lesson.flags().threads == 0 && !std::getenv("HEED_THREADS") && !std::getenv("OMP_NUM_THREADS"))
          set_num_threads(1);

        // ------------------------------------------------------------------
        lesson.section(1, "the corpus");
        // A phrase grammar makes every pair, so the corpus costs nothing to
        // download and knows its own answers: for each French word, which English
        // word it translates (lessons/common/translation.h). It has what makes
        // French interesting to an attention model: determiners and possessives
        // that agree with a noun that comes after them (le/la/les, mon/ma/mes),
        // adjectives that move behind the noun (la voiture rouge), verbs that
        // agree with their subject (il voit, ils voient), and negation split
        // around the verb (ne voit pas; "ne" translates no word alone, "does"
        // is translated by no word). The splits share no sentence: the test
        // BLEU below is on sentences the model never saw.
        const Data d = make_data(lesson);
        int64_t longest_en = 0, longest_fr = 0;
        for (const Example& e : d.train) {
          longest_en = std::max<int64_t>(longest_en, int64_t(e.source.size()));
          longest_fr = std::max<int64_t>(longest_fr, int64_t(e.target.size()) - 1);
        }
        std::printf("pairs: %zu train, %zu validation, %zu test\n", d.train.size(), d.validation.size(),
                    d.test.size());
        std::printf(
            "vocabularies (4 reserved ids each: <pad> <bos> <eos> <unk>): English %lld, French %lld\n",
            (long long)d.english.size(), (long long)d.french.size());
        std::printf("longest sentence: %lld English words, %lld French words\n\n", (long long)longest_en,
                    (long long)longest_fr);
        std::printf("three training pairs, each French word with the English word it translates:\n");
        for (size_t i = 0; i < 3; ++i) {
          const course::SentencePair& p = *d.train[i].pair;
          std::printf("  %s\n  %s\n   ", course::join(p.english).c_str(), course::join(p.french).c_str());
          for (size_t j = 0; j < p.french.size(); ++j)
            std::printf(" %s=%s", p.french[j].c_str(),
                        p.alignment[j] < 0 ? "(none)" : p.english[size_t(p.alignment[j])].c_str());
          std::printf("\n\n");
        }

        // ------------------------------------------------------------------
        lesson.section(2, "the model");
        // Encoder (lessons/common/seq2seq.h): embed the English ids, (B, S) ->
        // (B, S, E), and run a GRU over them both ways, Hid / 2 per direction:
        //   h_s = [forward GRU up to s; backward GRU from the end down to s]   (B, S, Hid)
        // Both ways matters here. "the red car" becomes "la voiture rouge": to
        // write "la", the decoder must know that "car" is feminine, a word that
        // comes after "the". A one-way encoder's h_"the" has not seen "car" yet,
        // so attention learns to look at the noun while writing the determiner:
        // translations come out right but the alignment is wrong (section 7 shows
        // it in full mode). Read both ways, h_"the" already knows its noun.
        // Decoder, per French word t (input feeding, as lesson 06):
        //   h_t  = GRUCell([embed(y_{t-1}); h~_{t-1}], h_{t-1})   (B, Hid)
        //   a_t  = softmax_s(v^T tanh(W_q h_t + W_k h_s))         (B, S)   Bahdanau's score
        //   c_t  = sum_s a_ts h_s                                 (B, Hid)
        //   h~_t = tanh(W_c [c_t; h_t]),  logits_t = W_out h~_t   (B, Hid), (B, V)
        // h_0 is the encoder's summary, [forward last; backward first].
        Seq2Seq model(model_options(d, lesson.seed() + 2));
        std::printf("Seq2Seq: embed 32, hidden 64 (a bidirectional GRU of 2 x 32), Bahdanau attention\n");
        std::printf("parameters: %lld\n", (long long)model.num_parameters());

        // ------------------------------------------------------------------
        lesson.section(3, "training");
        // Teacher forcing: step t reads the reference word t - 1 (bos first) and
        // is scored by cross-entropy on word t; all T steps of a batch give one
        // loss (B, T, V) against (B, T), padding ignored. Adam at 3e-3, gradients
        // clipped to norm 1 (a recurrence can blow a gradient up), batches of 64
        // pairs of similar length (few padded steps), the batch order shuffled
        // every epoch. The note after each epoch is the validation split's
        // teacher-forced token accuracy.
        const double untrained_bleu = bleu_of(translate_greedy(model, d.test), d.test).score;
        const int64_t epochs = lesson.pick<int64_t>(8, 12);
        train(model, d, {.epochs = epochs, .seed = lesson.seed() + 3});

        // ------------------------------------------------------------------
        lesson.section(4, "greedy decoding");
        // At test time there is no reference to read: the decoder reads its own
        // last word. Greedy decoding takes the most probable word at every step,
        //   y_t = argmax_v log p(v | y_<t, x)        from the (N, V) log-probs
        // and feeds it back, until the sentence says eos. nn::greedy_search runs
        // it over a Decoder (nn/generate.h), which model.make_decoder builds from
        // the encoded sources; a row that emits eos leaves the batch.
        const std::vector<std::vector<int64_t>> greedy = translate_greedy(model, d.test);
        std::printf("test sentences, greedy (= the reference unless marked):\n");
        for (size_t i = 0; i < 5; ++i) {
          const bool same = without_eos(greedy[i]) == without_eos(d.test[i].target);
          std::printf("  %s\n  -> %s%s\n", course::join(d.test[i].pair->english).c_str(),
                      words(d.french, greedy[i]).c_str(), same ? "" : "   (reference differs)");
          if (!same) std::printf("     reference: %s\n", course::join(d.test[i].pair->french).c_str());
        }
        int64_t exact = 0;
        for (size_t i = 0; i < d.test.size(); ++i)
          exact += without_eos(greedy[i]) == without_eos(d.test[i].target);
        std::printf("exactly the reference: %lld of %zu test sentences\n\n", (long long)exact, d.test.size());
        {
          const Pairs b = batch_of(d.test, 0, 50);
          const std::vector<nn::Hypothesis> heeds =
              nn::greedy_search(*model.make_decoder(b.source.ids, b.source.padding), 50,
                                {.max_new_tokens = kMaxNewTokens,
                                 .decoder_start_token_id = Vocab::bos,
                                 .eos_token_id = Vocab::eos});
          course::check_exercise(
              lesson, 1, "greedy decoding to eos",
              [&] {
                auto decoder = model.make_decoder(b.source.ids, b.source.padding);
                const auto yours =
                    lesson08::greedy_decode(*decoder, 50, Vocab::bos, Vocab::eos, kMaxNewTokens);
                for (size_t i = 0; i < 50; ++i)
                  if (yours.at(i) != heeds[i].tokens) return false;
                return true;
              },
              "50 test sentences, symbol for symbol against nn::greedy_search");
        }

        // ------------------------------------------------------------------
        lesson.section(5, "beam search");
        // Greedy commits to each word for good. Beam search keeps the K best
        // partial translations: at each step every one of them is extended by
        // every word, the K * V candidates are ranked by their summed log-prob
        //   log p(y_1..y_t | x) = sum_i log p(y_i | y_<i, x)
        // and the best K run on; a candidate ending in eos is finished. Finished
        // translations of different lengths are compared by
        //   score = log_prob / L^alpha      (alpha = 1: the mean log-prob per word)
        // since a plain sum favours short outputs (every word costs log-prob).
        // The search stops when no running hypothesis can beat the best finished.
        {
          const Pairs one = batch_of(d.test, 0, 1);
          auto best =
              nn::beam_search(*model.make_decoder(one.source.ids, one.source.padding), 1, beam_options(4, 4));
          std::printf("the 4-best list of \"%s\" (K = 4, alpha = 1):\n",
                      course::join(d.test[0].pair->english).c_str());
          for (const nn::Hypothesis& h : best[0])
            std::printf("  score %8.4f  log-prob %8.4f  %s\n", h.score, h.log_prob,
                        words(d.french, h.tokens).c_str());
        }
        const std::vector<std::vector<int64_t>> beam = translate_beam(model, d.test, 4);
        int64_t differ = 0;
        for (size_t i = 0; i < d.test.size(); ++i) differ += without_eos(beam[i]) != without_eos(greedy[i]);
        std::printf("beam (K = 4) and greedy differ on %lld of %zu test sentences\n\n", (long long)differ,
                    d.test.size());
        {
          const Pairs b = batch_of(d.test, 0, 50);
          const nn::BeamSearchOptions options = beam_options(4, 2);
          const auto heeds =
              nn::beam_search(*model.make_decoder(b.source.ids, b.source.padding), 50, options);
          course::check_exercise(
              lesson, 2, "one beam-search step",
              [&] {
                auto decoder = model.make_decoder(b.source.ids, b.source.padding);
                const auto yours = lesson08::beam_search_with_your_step(*decoder, 50, options);
                for (size_t i = 0; i < 50; ++i) {
                  if (yours.at(i).size() != heeds[i].size()) return false;
                  for (size_t k = 0; k < heeds[i].size(); ++k)
                    if (yours[i][k].tokens != heeds[i][k].tokens ||
                        std::fabs(yours[i][k].score - heeds[i][k].score) > 1e-9)
                      return false;
                }
                return true;
              },
              "beam_loop.h around your step, 2-best lists of 50 test sentences against nn::beam_search");
        }

        // ------------------------------------------------------------------
        lesson.section(6, "BLEU on the held-out test split");
        // BLEU (nn/bleu.h) asks how many of a translation's n-grams (n = 1..4)
        // appear in the reference, summed over the whole test corpus:
        //   p_n  = sum of clipped matches / sum of n-grams in the hypotheses
        //          (clipped: "le le le" earns "le" only as often as the reference has it)
        //   BP   = exp(1 - r / c) when the output is shorter (c words) than the
        //          references (r words), else 1: precision alone would reward
        //          saying little
        //   BLEU = BP * (p_1 p_2 p_3 p_4)^(1/4)      in [0, 1]
        // An untrained model scores 0: it matches hardly any 4-gram.
        const nn::BleuScore greedy_bleu = bleu_of(greedy, d.test), beam_bleu = bleu_of(beam, d.test);
        std::printf("test BLEU: untrained %.4f, greedy %.4f, beam (K = 4) %.4f\n", untrained_bleu,
                    greedy_bleu.score, beam_bleu.score);
        // Training is seeded, so every run gets these numbers; the lesson fails
        // loudly if the translator stops learning.
        const double needed_bleu = lesson.pick(0.6, 0.9);
        HEED_CHECK(greedy_bleu.score >= needed_bleu, "lesson 08: the translator reached test BLEU ",
                   greedy_bleu.score, ", expected at least ", needed_bleu);
        std::printf("greedy: p_1..p_4 = %.4f %.4f %.4f %.4f, BP %.4f (c = %lld, r = %lld words)\n\n",
                    greedy_bleu.precisions[0], greedy_bleu.precisions[1], greedy_bleu.precisions[2],
                    greedy_bleu.precisions[3], greedy_bleu.brevity_penalty,
                    (long long)greedy_bleu.hypothesis_length, (long long)greedy_bleu.reference_length);
        {
          std::vector<std::vector<int64_t>> hypotheses;
          std::vector<std::vector<std::vector<int64_t>>> references;
          for (size_t i = 0; i < d.test.size(); ++i) {
            // a few shortened, so the brevity penalty has something to do
            std::vector<int64_t> h = without_eos(greedy[i]);
            if (i % 7 == 0 && h.size() > 2) h.resize(h.size() - 2);
            hypotheses.push_back(h);
            references.push_back({without_eos(d.test[i].target)});
          }
          course::compare_exercise(
              lesson, 3, "clipped n-grams and BLEU",
              [&] { return from_vector({float(lesson08::bleu(hypotheses, references))}, {1}); },
              from_vector({float(nn::corpus_bleu(hypotheses, references).score)}, {1}), 1e-6);
        }

        // ------------------------------------------------------------------
        lesson.section(7, "alignment: does attention look at the word it translates?");
        // The grammar knows which English word each French word translates (the
        // "ne" of ne ... pas translates none alone and is not counted; nor is the
        // eos step). Under teacher forcing, row t of the attention is French word
        // t; the model aligns it right when the argmax of that row is its English
        // word:
        //   accuracy = #{t : alignment_t >= 0, argmax_s a_ts = alignment_t} / #{t : alignment_t >= 0}
        // Nobody told the model about alignments: it learned them because looking
        // at the right word is what predicts the next word best.
        const std::vector<Tensor> weights = attention_of(model, d.test);
        const AlignmentReport aligned = alignment_report(weights, d.test);
        std::printf("alignment accuracy on the test split: %.1f%% (%lld of %lld French words)\n",
                    100.0 * double(aligned.correct) / double(aligned.total), (long long)aligned.correct,
                    (long long)aligned.total);
        std::printf("misaligned most often: %s\n", worst_misses(aligned, 6).c_str());
        const double needed_alignment = lesson.pick(0.8, 0.9);
        HEED_CHECK(double(aligned.correct) >= needed_alignment * double(aligned.total),
                   "lesson 08: attention aligned only ", aligned.correct, " of ", aligned.total,
                   " French words, expected at least ", 100 * needed_alignment, "%");
        if (!lesson.quick()) {
          // The same recipe with a one-way encoder: its translations are as good,
          // its alignments are not: a determiner or a possessive looks at its noun,
          // whose gender and number it needs and h_s of its own word lacks.
          Seq2Seq one_way(model_options(d, lesson.seed() + 2, /*bidirectional=*/false));
          train(one_way, d, {.epochs = epochs, .seed = lesson.seed() + 3, .show = false});
          const AlignmentReport r = alignment_report(attention_of(one_way, d.test), d.test);
          std::printf("with a one-way encoder: test BLEU %.4f, alignment %.1f%%, misaligned most often: %s\n",
                      bleu_of(translate_greedy(one_way, d.test), d.test).score,
                      100.0 * double(r.correct) / double(r.total), worst_misses(r, 6).c_str());
        }
        std::printf("\n");
        course::check_exercise(
            lesson, 4, "alignment accuracy",
            [&] {
              int64_t correct = 0, total = 0;
              for (size_t k = 0; k < weights.size(); ++k) {
                const size_t begin = k * kEvalBatch;
                const lesson08::AlignmentCount c = lesson08::alignment_accuracy(
                    weights[k], alignments_of(d.test, begin, begin + size_t(weights[k].size(0))));
                correct += c.correct;
                total += c.total;
              }
              return correct == aligned.correct && total == aligned.total;
            },
            "the counts over the test split");

        // ------------------------------------------------------------------
        lesson.section(8, "attention heatmaps");
        // One row per French word the model wrote (its own greedy translation
        // this time, eos included), one column per English word, for two test
        // sentences with an adjective behind its noun: there the bright cell
        // steps back in the English.
        int shown = 0;
        for (size_t i = 0; i < d.test.size() && shown < 2; ++i) {
          const course::SentencePair& p = *d.test[i].pair;
          bool moves = false;  // an adjective behind its noun (pas, behind its verb, does not count)
          for (size_t j = 1; j < p.alignment.size(); ++j)
            moves |= p.alignment[j] >= 0 && p.alignment[j] < p.alignment[j - 1] && p.french[j] != "pas";
          if (!moves) continue;
          const Pairs one = batch_of(d.test, i, i + 1);
          const int64_t steps = int64_t(greedy[i].size());
          const Tensor w =
              select(model.greedy(one.source.ids, one.source.padding, steps).weights, 0, 0);  // (T, S)
          std::vector<std::string> rows;
          for (int64_t id : greedy[i]) rows.push_back(d.french.token(id));
          const std::string title = "attention: " + course::join(p.english);
          course::print_heatmap(std::cout, w, {.title = title, .row_labels = rows, .col_labels = p.english});
          std::cout << "\n";
          course::write_heatmap_svg(
              lesson.figure("attention_" + std::to_string(++shown),
                            "the translator's attention while writing \"" +
                                course::join(d.french.decode(greedy[i])) +
                                "\": rows French words, columns English; an adjective's bright cell steps "
                                "back to its English place"),
              w,
              {.title = title,
               .row_labels = rows,
               .col_labels = p.english,
               .x_label = "English (source)",
               .y_label = "French (written)",
               .low = 0,
               .high = 1});
        }

        // ------------------------------------------------------------------
        lesson.section(9, "a checkpoint");
        // Module::save writes every parameter under its dotted name
        // ("encoder.weight_ih_l0", "attention.w_q.weight", ...) to a safetensors
        // file (nn/io/safetensors.h): an 8-byte header length, a JSON header, the
        // raw floats. A fresh model with other initial weights translates
        // nonsense until load() puts the trained weights in it.
        const std::filesystem::path folder = lesson.flags().out;
        std::filesystem::create_directories(folder);
        const std::string path = (folder / "08_translator.safetensors").string();
        model.save(path);
        std::printf("saved %s (%lld bytes)\n", path.c_str(), (long long)std::filesystem::file_size(path));
        Seq2Seq fresh(model_options(d, lesson.seed() + 99));
        const std::vector<Example> first(d.test.begin(), d.test.begin() + 1);
        std::printf("%s\n", course::join(first[0].pair->english).c_str());
        course::Tokens nonsense = d.french.decode(translate_greedy(fresh, first)[0]);
        if (nonsense.size() > 12) nonsense.resize(12), nonsense.push_back("...");
        std::printf("  a fresh model: %s\n", course::join(nonsense).c_str());
        fresh.load(path);
        fresh.eval();
        const std::vector<std::vector<int64_t>> reloaded = translate_greedy(fresh, d.test),
                                                reloaded_beam = translate_beam(fresh, d.test, 4);
        const bool same = reloaded == greedy && reloaded_beam == beam;
        std::printf("  reloaded:      %s\n", words(d.french, reloaded[0]).c_str());
        std::printf("the reloaded model's greedy and beam translations of all %zu test sentences are %s\n",
                    d.test.size(), same ? "identical to the trained model's" : "DIFFERENT (a bug)");
        HEED_CHECK(same, "lesson 08: the reloaded checkpoint translates differently");
      });
}
