// Lesson 15: the Transformer translator.
//
// Lesson 08 translated English to French with a GRU encoder-decoder and
// Bahdanau attention; lesson 14 built the Transformer and trained it on toy
// tasks of one length. This lesson gives lesson 08's corpus to the
// Transformer. Sentences now have different lengths, so batches are padded
// and every attention must be told what to ignore; a translation ends when the
// model says so (eos), so decoding runs one word at a time, which is where the
// key/value caches earn their keep. Then the question every Transformer paper
// asks of the RNN it replaced: is it better, and is it faster to train?
//
//   1. the corpus            English -> French from lesson 08's grammar
//   2. a padded batch        what each attention may see
//   3. the two models        the Transformer, and lesson 08's GRU + Bahdanau
//   4. training both         measured to the same validation BLEU
//   5. decoding              greedy and beam search through the caches; test BLEU
//   6. held-out sentences    translated beside their references
//   7. cross-attention       where each French word looks, as heatmaps
//
// Run it: `make lesson N=15` (or build/lessons/lesson_15 [--quick]).
#include "lessons/common/lesson.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/15_transformer_translator/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/heatmap.h"
#include "lessons/common/seq2seq.h"
#include "lessons/common/svg.h"
#include "lessons/common/translation.h"
#include "lessons/common/vocab.h"
#include "nn/nn.h"

using namespace heed;
using course::Vocab;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ------------------------------------------------------------- the data
// One pair as ids: the English without bos or eos, the French without either
// (batch_of adds them), and the pair it came from (for its words and alignment).
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
  // The vocabularies come from the training split, as for real text.
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
      out.push_back({d.english.encode(p.english), d.french.encode(p.french), &p});
    return out;
  };
  d.train = encode(d.corpus.train);
  d.validation = encode(d.corpus.validation);
  d.test = encode(d.corpus.test);
  return d;
}

// A training batch, right-padded (course::make_batch):
//   source  (B, S)  the English
//   input   (B, T)  the decoder's input: bos y_1 .. y_n  (teacher forcing, lesson 14)
//   labels  (B, T)  what each position must predict: y_1 .. y_n eos
// input and labels have the same lengths, so input.padding is the target's padding.
struct TrainingBatch {
  course::Batch source, input, labels;
};
TrainingBatch batch_of(const std::vector<Example>& examples, const std::vector<size_t>& rows) {
  std::vector<std::vector<int64_t>> sources, inputs, labels;
  for (size_t r : rows) {
    const Example& e = examples[r];
    sources.push_back(e.source);
    inputs.push_back({Vocab::bos});
    inputs.back().insert(inputs.back().end(), e.target.begin(), e.target.end());
    labels.push_back(e.target);
    labels.back().push_back(Vocab::eos);
  }
  return {course::make_batch(sources), course::make_batch(inputs), course::make_batch(labels)};
}

std::vector<size_t> range(size_t begin, size_t end) {
  std::vector<size_t> r(end - begin);
  std::iota(r.begin(), r.end(), begin);
  return r;
}

// Bucketing, as in lesson 08: pairs sorted by length, then cut into batches,
// so a batch pads little; the batches' order is shuffled every epoch.
std::vector<std::vector<size_t>> length_buckets(const std::vector<Example>& examples, size_t batch) {
  std::vector<size_t> order = range(0, examples.size());
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

std::string words(const Vocab& vocab, const std::vector<int64_t>& ids) {
  return course::join(vocab.decode(ids));
}

// ------------------------------------------------------------- decoding and BLEU
constexpr int64_t kEvalBatch = 100;
constexpr int64_t kMaxNewTokens = 24;  // the longest French sentence has 12 words

using MakeDecoder = std::function<std::unique_ptr<nn::Decoder>(const Tensor& source, const Tensor& padding)>;

// Translations of `examples`, eos dropped: greedy when beams is 1, else beam search.
std::vector<std::vector<int64_t>> translate(const MakeDecoder& make, const std::vector<Example>& examples,
                                            int64_t beams = 1) {
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; i < examples.size(); i += kEvalBatch) {
    const size_t end = std::min(examples.size(), i + kEvalBatch);
    const TrainingBatch b = batch_of(examples, range(i, end));
    std::unique_ptr<nn::Decoder> decoder = make(b.source.ids, b.source.padding);
    std::vector<nn::Hypothesis> best;
    if (beams == 1) {
      best = nn::greedy_search(*decoder, int64_t(end - i),
                               {.max_new_tokens = kMaxNewTokens,
                                .decoder_start_token_id = Vocab::bos,
                                .eos_token_id = Vocab::eos});
    } else {
      for (auto& n_best : nn::beam_search(*decoder, int64_t(end - i),
                                          {.num_beams = beams,
                                          .max_new_tokens = kMaxNewTokens,
                                          .decoder_start_token_id = Vocab::bos,
                                          .eos_token_id = Vocab::eos,
                                          .length_penalty = 1.0f}))
        best.push_back(n_best[0]);
    }
    for (nn::Hypothesis& h : best) {
      if (!h.tokens.empty() && h.tokens.back() == Vocab::eos) h.tokens.pop_back();
      out.push_back(std::move(h.tokens));
    }
  }
  return out;
}

// Corpus BLEU (nn/bleu.h, lesson 08) of translations against the one reference each.
double bleu(const std::vector<std::vector<int64_t>>& translations, const std::vector<Example>& examples) {
  std::vector<std::vector<std::vector<int64_t>>> references;
  for (const Example& e : examples) references.push_back({e.target});
  return nn::corpus_bleu(translations, references).score;
}

// ------------------------------------------------------------- training
struct Training {
  // After each epoch: validation BLEU, and the seconds of training so far, on
  // the clock (wall) and in CPU time (every thread's, so a machine busy with
  // other work slows the first but hardly the second).
  std::vector<double> loss, validation_bleu, wall, cpu;  // loss: the epoch's mean training loss
  int64_t reached = 0;                                   // the first epoch at the target BLEU (0: never)
};

struct TrainOptions {
  int64_t epochs = 1;
  double target_bleu = 0.95;
  uint64_t seed = 0;  // of the batches' order: the same for both models
};

// The loop of lesson 08 for either model, an epoch at a time, so two models
// can take turns (and share whatever else the machine is doing): `loss_of`
// runs the model on a batch. Only the training steps are timed; the
// validation BLEU after each epoch (greedy decoding of 200 sentences) is not.
class Trainer {
 public:
  Trainer(nn::Module& model, nn::Optimizer& optimizer, nn::Schedule schedule,
          std::function<Variable(const TrainingBatch&)> loss_of, MakeDecoder make_decoder, const Data& d,
          const TrainOptions& o)
      : model_(model),
        optimizer_(optimizer),
        schedule_(std::move(schedule)),
        loss_of_(std::move(loss_of)),
        make_decoder_(std::move(make_decoder)),
        d_(d),
        o_(o),
        batches_(length_buckets(d.train, 64)),
        gen_(o.seed) {}

  void epoch() {
    for (size_t i = batches_.size(); i > 1; --i)
      std::swap(batches_[i - 1], batches_[size_t(gen_.randint(int64_t(i)))]);
    model_.train();
    const Clock::time_point start = Clock::now();
    const std::clock_t cpu_start = std::clock();
    double total = 0;
    for (const std::vector<size_t>& rows : batches_) {
      const TrainingBatch b = batch_of(d_.train, rows);
      nn::apply_schedule(optimizer_, schedule_);
      optimizer_.zero_grad();
      Variable loss = loss_of_(b);
      loss.backward();
      nn::clip_grad_norm(model_.parameters(), 1.0);
      optimizer_.step();
      total += loss.item();
    }
    wall_ += seconds_since(start);
    cpu_ += double(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    model_.eval();
    const double score = bleu(translate(make_decoder_, d_.validation), d_.validation);
    run_.loss.push_back(total / double(batches_.size()));
    run_.validation_bleu.push_back(score);
    run_.wall.push_back(wall_);
    run_.cpu.push_back(cpu_);
    if (run_.reached == 0 && score >= o_.target_bleu) run_.reached = int64_t(run_.validation_bleu.size());
  }
  const Training& run() const { return run_; }

 private:
  nn::Module& model_;
  nn::Optimizer& optimizer_;
  nn::Schedule schedule_;
  std::function<Variable(const TrainingBatch&)> loss_of_;
  MakeDecoder make_decoder_;
  const Data& d_;
  TrainOptions o_;
  std::vector<std::vector<size_t>> batches_;
  Generator gen_;
  Training run_;
  double wall_ = 0, cpu_ = 0;
};

// ------------------------------------------------------------- looking inside
// The decoder run by hand (lesson 14, exercise 2, written out) to keep what
// Seq2SeqTransformer::forward throws away: each layer's cross-attention
// weights, (B, H, T, S). Checked against the model's own logits.
std::vector<Tensor> cross_attention(nn::Seq2SeqTransformer& model, const Tensor& source,
                                    const Tensor& source_padding, const Tensor& input) {
  NoGradGuard no_grad;
  const Variable memory = model.encode(source, source_padding);
  Variable y = model.tgt_embed->forward(input) * std::sqrt(float(model.options().d_model));
  y = model.sinusoidal->forward(y, 0);  // (B, T, D); dropout is off in eval mode
  std::vector<Tensor> weights;
  for (const auto& layer : model.decoder->layers) {
    HEED_CHECK(layer->options().norm_first, "cross_attention: written for pre-norm layers");
    auto ff = [&](const Variable& x) { return layer->linear2->forward(relu(layer->linear1->forward(x))); };
    y = y + layer->self_attn->forward(layer->norm1->forward(y), {.causal = true}).output;
    nn::Attention a = layer->multihead_attn->forward(layer->norm2->forward(y), memory, memory,
                                                     {.key_padding = source_padding});
    y = y + a.output;
    y = y + ff(layer->norm3->forward(y));
    weights.push_back(a.weights.value());
  }
  const Tensor logits = model.output_proj->forward(model.decoder->norm->forward(y)).value();
  const Tensor reference = model.forward(source, input, source_padding).value();
  HEED_CHECK(allclose(logits, reference, 1e-4f, 1e-4f),
             "cross_attention: the walk through the decoder does not "
             "reproduce the model's logits");
  return weights;
}

// A French word is aligned when the source word its attention row weighs
// most is the one it translates (the grammar knows: course::SentencePair).
struct Alignment {
  int64_t correct = 0, total = 0;
  double rate() const { return total ? double(correct) / double(total) : 0; }
};
void count_alignment(const Tensor& weights, const Example& e, Alignment& a) {  // weights: (T, S)
  for (size_t t = 0; t < e.pair->alignment.size(); ++t) {
    const int truth = e.pair->alignment[t];
    if (truth < 0) continue;
    const Tensor row = select(weights, 0, int64_t(t));
    a.correct += int64_t(argmax(row, 0).item()) == truth;
    ++a.total;
  }
}

// A Decoder over the Transformer's caches whose reorder is yours
// (exercise 3): nn::beam_search drives it as it drives make_decoder's.
class YourReorderDecoder : public nn::Decoder {
 public:
  YourReorderDecoder(nn::Seq2SeqTransformer& model, const Tensor& source, const Tensor& padding)
      : model_(model), padding_(padding) {
    NoGradGuard no_grad;
    memory_ = model.encode(source, padding);
  }
  Tensor step(const Tensor& last) override {
    NoGradGuard no_grad;
    const int64_t N = last.numel();
    const Tensor logits = model_.decode(reshape(last, {N, 1}), memory_, padding_, {}, &caches_).value();
    return log_softmax(reshape(logits, {N, logits.size(2)}), -1);
  }
  void reorder(const std::vector<int64_t>& rows) override {
    lesson15::reorder_caches(caches_, padding_, rows);
  }

 private:
  nn::Seq2SeqTransformer& model_;
  Tensor padding_;
  Variable memory_;  // read at the first step only: the caches hold its keys and values after that
  std::vector<nn::TransformerDecoderLayerCache> caches_;
};

// Greedy decoding with no cache: every step runs the whole decoder over the
// whole prefix again, (B, t) -> logits (B, t, V), and keeps the last row.
std::vector<std::vector<int64_t>> greedy_without_cache(nn::Seq2SeqTransformer& model,
                                                       const std::vector<Example>& examples) {
  NoGradGuard no_grad;
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; i < examples.size(); i += kEvalBatch) {
    const TrainingBatch b = batch_of(examples, range(i, std::min(examples.size(), i + kEvalBatch)));
    const int64_t B = b.source.ids.size(0);
    const Variable memory = model.encode(b.source.ids, b.source.padding);
    std::vector<std::vector<int64_t>> rows(static_cast<size_t>(B));
    std::vector<bool> done(size_t(B), false);
    Tensor prefix = full({B, 1}, float(Vocab::bos));
    for (int64_t t = 0; t < kMaxNewTokens; ++t) {
      const Tensor logits = model.decode(prefix, memory, b.source.padding).value();  // (B, t + 1, V)
      const Tensor next = argmax(log_softmax(select(logits, 1, t), -1), -1);         // (B,)
      bool all = true;
      for (int64_t r = 0; r < B; ++r) {
        if (!done[size_t(r)]) {
          rows[size_t(r)].push_back(int64_t(next.data()[r]));
          done[size_t(r)] = next.data()[r] == float(Vocab::eos);
        }
        all = all && done[size_t(r)];
      }
      if (all) break;
      prefix = cat({prefix, reshape(next, {B, 1})}, 1);
    }
    for (auto& r : rows) {
      if (!r.empty() && r.back() == Vocab::eos) r.pop_back();
      out.push_back(std::move(r));
    }
  }
  return out;
}

// Whether the French reorders the English around a noun (an adjective after
// it): two French words whose English words come in the other order, "pas"
// aside (ne ... pas always wraps the verb).
bool reorders(const course::SentencePair& p) {
  int last = -1;
  for (size_t j = 0; j < p.alignment.size(); ++j) {
    const int a = p.alignment[j];
    if (a < 0 || p.french[j] == "pas") continue;
    if (a < last) return true;
    last = a;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 15, .topic = "transformer_translator", .title = "the Transformer translator"},
      [](const course::Lesson& lesson) {
        // ------------------------------------------------------------------
        lesson.section(1, "the corpus");
        // Lesson 08's English -> French grammar (lessons/common/translation.h):
        // gender and number agreement, adjectives that follow the noun in
        // French, ne ... pas. Validation and test sentences are in no other split.
        const Data d = make_data(lesson);
        std::printf(
            "  %zu training, %zu validation, %zu test pairs; %lld English and %lld French tokens "
            "(4 reserved: pad bos eos unk)\n",
            d.train.size(), d.validation.size(), d.test.size(), (long long)d.english.size(),
            (long long)d.french.size());
        for (size_t i = 0; i < 3; ++i)
          std::printf("  %-48s %s\n", course::join(d.corpus.train[i].english).c_str(),
                      course::join(d.corpus.train[i].french).c_str());

        // ------------------------------------------------------------------
        lesson.section(2, "a padded batch");
        // B sentences of different lengths share one (B, S) tensor: each is
        // right-padded with pad (0), and padding (B, S) says where (1 = pad).
        // A padded position must never be attended to, or a sentence's
        // translation would depend on how long its neighbours in the batch are:
        //   encoder self-attention   queries (B, S), keys (B, S): hide padded source keys
        //   decoder self-attention   queries (B, T), keys (B, T): hide padded target
        //                            keys and the future (the causal mask of lesson 14)
        //   cross-attention          queries (B, T), keys (B, S): hide padded source keys
        // The model takes the two paddings (B, S) and (B, T) and builds the
        // three masks itself (Seq2SeqTransformer::forward); exercise 1 builds
        // them as the (B, 1, queries, keys) tensors the attentions apply.
        std::vector<size_t> rows;  // four training pairs of different lengths
        for (size_t i = 0; i < d.train.size() && rows.size() < 4; ++i)
          if (std::none_of(rows.begin(), rows.end(),
                           [&](size_t r) { return d.train[r].source.size() == d.train[i].source.size(); }))
            rows.push_back(i);
        const TrainingBatch example = batch_of(d.train, rows);
        std::cout << "  source ids " << example.source.ids.shape() << " (0 = pad):\n";
        for (int64_t b = 0; b < example.source.ids.size(0); ++b) {
          std::printf("   ");
          for (int64_t s = 0; s < example.source.ids.size(1); ++s)
            std::printf(" %3d", int(example.source.ids.at({b, s})));
          std::printf("    %s\n", course::join(d.train[rows[size_t(b)]].pair->english).c_str());
        }
        // The Transformer of section 3, made here: its attention shows the masks.
        nn::Seq2SeqTransformer model({.src_vocab = d.english.size(),
                                      .tgt_vocab = d.french.size(),
                                      .d_model = 64,
                                      .nhead = 2,
                                      .num_encoder_layers = 1,
                                      .num_decoder_layers = 1,
                                      .dim_feedforward = 256,
                                      .dropout = 0.1f,
                                      .norm_first = true,
                                      .max_length = 32,
                                      .padding_idx = Vocab::pad,
                                      .seed = lesson.seed() + 15});
        model.eval();
        {
          // Untrained, every visible key gets nearly the same weight, so the
          // decoder's self-attention of the shortest sentence shows its mask:
          // a lower triangle (the causal mask) cut off at its length (padding).
          NoGradGuard no_grad;
          const int64_t T = example.input.ids.size(1);
          const int64_t b = std::min_element(example.input.lengths.begin(), example.input.lengths.end()) -
                            example.input.lengths.begin();
          Variable y = model.tgt_embed->forward(example.input.ids) * std::sqrt(64.0f);
          y = model.sinusoidal->forward(y, 0);
          const auto& layer = model.decoder->layers[0];
          const Tensor w =
              layer->self_attn
                  ->forward(layer->norm1->forward(y), {.key_padding = example.input.padding, .causal = true})
                  .weights.value();  // (B, H, T, T)
          std::vector<std::string> labels;
          for (int64_t t = 0; t < T; ++t) {
            const int64_t id = int64_t(example.input.ids.at({b, t}));
            labels.push_back(id == Vocab::pad ? "<pad>" : d.french.token(id));
          }
          course::print_heatmap(
              std::cout, mean(select(w, 0, b), {0}),
              {.title = "decoder self-attention, untrained, of the shortest sentence (mean of "
                        "the heads)",
               .row_labels = labels,
               .col_labels = labels,
               .high = 0.5});
        }
        {
          std::vector<int64_t> source_lengths, target_lengths;
          for (size_t r : rows) {
            source_lengths.push_back(int64_t(d.train[r].source.size()));
            target_lengths.push_back(int64_t(d.train[r].target.size()) + 1);
          }
          const int64_t S = example.source.ids.size(1), T = example.input.ids.size(1);
          Generator gen(lesson.seed() + 2);
          const Variable x(randn({int64_t(rows.size()), S, 64}, gen)),
              y(randn({int64_t(rows.size()), T, 64}, gen));
          nn::MultiHeadAttention& attention = *model.decoder->layers[0]->multihead_attn;
          course::check_exercise(
              lesson, 1, "the masks of a padded batch",
              [&] {
                const lesson15::BatchMasks m = lesson15::batch_masks(source_lengths, target_lengths, S, T);
                auto same = [](const nn::Attention& a, const nn::Attention& b) {
                  return allclose(a.weights.value(), b.weights.value(), 0.0f, 0.0f);
                };
                NoGradGuard no_grad;
                return same(attention.forward(x, {.key_padding = example.source.padding}),
                            attention.forward(x, {.attn = m.encoder_self})) &&
                       same(attention.forward(y, {.key_padding = example.input.padding, .causal = true}),
                            attention.forward(y, {.attn = m.decoder_self})) &&
                       same(attention.forward(y, x, x, {.key_padding = example.source.padding}),
                            attention.forward(y, x, x, {.attn = m.cross}));
              },
              "attention weights with your three masks against heed's key_padding and causal");
        }

        // ------------------------------------------------------------------
        lesson.section(3, "the two models");
        // The Transformer: d_model 64, 2 heads, one layer a side, feed-forward
        // 256, dropout 0.1, pre-norm, padding_idx = pad (the pad row of the
        // embeddings stays 0 and untrained). Trained as the paper trains it:
        // label smoothing 0.1 and the Noam schedule (lesson 14), Adam (0.9, 0.98).
        // The RNN: lesson 08's translator (lessons/common/seq2seq.h), a
        // bidirectional GRU encoder (2 x 32), Bahdanau attention and an
        // input-feeding GRU decoder, embeddings 32, hidden 64; trained with
        // lesson 08's recipe: Adam at 3e-3, plain cross-entropy.
        course::Seq2Seq rnn({.source_vocab = d.english.size(),
                             .target_vocab = d.french.size(),
                             .embed = 32,
                             .hidden = 64,
                             .attention = course::AttentionKind::bahdanau,
                             .bidirectional = true,
                             .bos = Vocab::bos,
                             .seed = lesson.seed() + 16});
        std::printf("  Transformer: %s\n    %lld parameters\n", model.describe().c_str(),
                    (long long)model.num_parameters());
        std::printf(
            "  RNN: lesson 08's bidirectional GRU encoder-decoder with Bahdanau attention, embed 32, hidden "
            "64\n    %lld parameters\n",
            (long long)rnn.num_parameters());

        // ------------------------------------------------------------------
        lesson.section(4, "training both, to the same BLEU");
        // Which is faster to train? The same number of epochs would only
        // compare how long an epoch takes, and the two models need different
        // numbers of epochs to translate well. So both train on the same
        // batches in the same order, each with its own recipe, and after every
        // epoch translate the validation split greedily; the measure is the
        // training time until validation BLEU first reaches 0.95 (the BLEU
        // asked of this lesson; evaluation time not counted). They take turns,
        // an epoch each, so a machine busy with other work slows both alike,
        // and CPU time stands beside the clock's. Both keep training to the
        // end, so the test BLEU of section 5 is that of equal epochs.
        const int64_t epochs = lesson.pick<int64_t>(4, 12);
        const double target = 0.95;
        const int64_t steps = epochs * int64_t(length_buckets(d.train, 64).size());
        const MakeDecoder transformer_decoder = [&](const Tensor& s, const Tensor& p) {
          return model.make_decoder(s, p);
        };
        const MakeDecoder rnn_decoder = [&](const Tensor& s, const Tensor& p) {
          return rnn.make_decoder(s, p);
        };
        // Noam: warmup 100 steps (fewer in quick mode) to a peak of 3e-3, then 1 / sqrt(step).
        const int64_t warmup = std::min<int64_t>(100, steps / 4);
        nn::Adam transformer_adam(model.named_parameters(), {.lr = 3e-3, .betas = {0.9, 0.98}, .eps = 1e-9});
        const nn::CrossEntropyLoss smoothed({.ignore_index = Vocab::pad, .label_smoothing = 0.1f});
        Trainer transformer_trainer(
            model, transformer_adam,
            nn::Noam{
                .d_model = 64, .warmup_steps = warmup, .factor = 3e-3 * std::sqrt(64.0 * double(warmup))},
            [&](const TrainingBatch& b) {
              // logits (B, T, V) for labels (B, T)
              return smoothed(model.forward(b.source.ids, b.input.ids, b.source.padding, b.input.padding),
                              b.labels.ids);
            },
            transformer_decoder, d, {.epochs = epochs, .target_bleu = target, .seed = lesson.seed() + 4});
        nn::Adam rnn_adam(rnn.named_parameters(), {.lr = 3e-3});
        const nn::CrossEntropyLoss plain({.ignore_index = Vocab::pad});
        Trainer rnn_trainer(
            rnn, rnn_adam, nn::Constant{.value = 3e-3},
            [&](const TrainingBatch& b) {
              // teacher forcing inside: step t reads labels t - 1 (bos at t = 0)
              return plain(rnn.forward(b.source.ids, b.source.padding, b.labels.ids).logits, b.labels.ids);
            },
            rnn_decoder, d, {.epochs = epochs, .target_bleu = target, .seed = lesson.seed() + 4});
        // They take turns, an epoch each, each row printed as it is done.
        std::printf("  %-6s %34s   %34s\n", "", "Transformer", "RNN (GRU + Bahdanau)");
        std::printf("  %-6s %8s %8s %8s %8s   %8s %8s %8s %8s\n", "epoch", "loss", "val BLEU", "wall s",
                    "CPU s", "loss", "val BLEU", "wall s", "CPU s");
        for (size_t e = 0; e < size_t(epochs); ++e) {
          transformer_trainer.epoch();
          rnn_trainer.epoch();
          const Training &t = transformer_trainer.run(), &r = rnn_trainer.run();
          std::printf("  %-6zu %8.4f %8.4f %8.2f %8.2f   %8.4f %8.4f %8.2f %8.2f\n", e + 1, t.loss[e],
                      t.validation_bleu[e], t.wall[e], t.cpu[e], r.loss[e], r.validation_bleu[e], r.wall[e],
                      r.cpu[e]);
          std::fflush(stdout);
        }
        const Training &transformer_run = transformer_trainer.run(), &rnn_run = rnn_trainer.run();
        // (The Transformer's loss has a floor: with label smoothing 0.1 over
        // 133 words the best it can do is the entropy of the smoothed target, ~0.9.)
        auto reached = [&](const char* name, const Training& r) {
          const double per_epoch = r.wall.back() / double(epochs),
                       cpu_per_epoch = r.cpu.back() / double(epochs);
          if (r.reached)
            std::printf(
                "  %-12s validation BLEU >= %.2f after %lld epochs: %.2f s of training (%.2f s CPU); "
                "an epoch %.2f s (%.2f s CPU)\n",
                name, target, (long long)r.reached, r.wall[size_t(r.reached - 1)],
                r.cpu[size_t(r.reached - 1)], per_epoch, cpu_per_epoch);
          else
            std::printf(
                "  %-12s validation BLEU < %.2f after all %lld epochs; an epoch %.2f s (%.2f s CPU)\n", name,
                target, (long long)epochs, per_epoch, cpu_per_epoch);
        };
        reached("Transformer", transformer_run);
        reached("RNN", rnn_run);
        if (transformer_run.reached && rnn_run.reached) {
          const size_t t = size_t(transformer_run.reached - 1), r = size_t(rnn_run.reached - 1);
          std::printf(
              "  time to validation BLEU %.2f, Transformer / RNN: %.2f on the clock, %.2f in CPU time\n",
              target, transformer_run.wall[t] / rnn_run.wall[r], transformer_run.cpu[t] / rnn_run.cpu[r]);
        }
        // Which wins is a product of two numbers the table shows: the epochs
        // each needs, and the seconds an epoch takes. The Transformer's epoch
        // does more arithmetic (more parameters, a softmax over every pair of
        // positions) in a few large matmuls over all positions at once; the
        // RNN's is ~25 small steps one after the other, each too small to keep
        // a core busy. At these sizes (sentences of 3 to 12 words, one layer)
        // the arithmetic decides; positions computed side by side pay off as
        // sentences grow longer and cores more numerous, which a recurrence
        // cannot use.
        std::vector<course::Series> curves;
        for (const auto& [name, r] :
             {std::pair<const char*, const Training*>{"Transformer", &transformer_run},
              {"RNN (GRU + Bahdanau)", &rnn_run}}) {
          course::Series s{.name = name, .x = r->wall, .y = r->validation_bleu};
          curves.push_back(s);
        }
        const std::string race = lesson.figure("bleu_against_time",
                                               "validation BLEU against seconds of training: the Transformer "
                                               "and lesson 08's RNN, trained in turns");
        course::write_line_plot_svg(race, curves,
                                    {.title = "validation BLEU against training time",
                                     .x_label = "seconds of training",
                                     .y_label = "validation BLEU (greedy)"});
        std::printf("  BLEU against time: %s\n", race.c_str());

        // ------------------------------------------------------------------
        lesson.section(5, "decoding");
        // Generation is sequential even for a Transformer: word t + 1 depends
        // on word t. Without a cache, step t runs the decoder over the whole
        // prefix again, O(t) positions, and O(T^2) over a sentence. With one,
        // each layer keeps the keys and values of the positions already
        // decoded (KVCache: (B, H, t, Dh)) and the memory's, projected once;
        // a step feeds only the newest word. Same words, less work:
        {
          Clock::time_point start = Clock::now();
          const auto cached = translate(transformer_decoder, d.test);
          const double with_cache = seconds_since(start);
          start = Clock::now();
          const auto uncached = greedy_without_cache(model, d.test);
          const double without = seconds_since(start);
          std::printf(
              "  greedy, %zu test sentences: %.3f s with the caches, %.3f s without; same translations: %s\n",
              d.test.size(), with_cache, without, cached == uncached ? "yes" : "NO");
        }
        // Exercise 2 decodes through the caches by hand; exercise 3 reorders
        // them for beam search, whose surviving hypotheses are a different
        // set of rows after every step (YourReorderDecoder hands your reorder
        // to heed's beam search).
        {
          const std::vector<Example> first(d.test.begin(), d.test.begin() + kEvalBatch);
          const auto heeds = translate(transformer_decoder, first);
          course::check_exercise(
              lesson, 2, "greedy decoding through the caches",
              [&] {
                const TrainingBatch b = batch_of(first, range(0, first.size()));
                std::vector<nn::TransformerDecoderLayerCache> caches;
                auto yours = lesson15::greedy_translate(model, b.source.ids, b.source.padding, Vocab::bos,
                                                        Vocab::eos, kMaxNewTokens, caches);
                for (auto& t : yours)
                  if (!t.empty() && t.back() == Vocab::eos) t.pop_back();
                return yours == heeds;
              },
              "your translations of 100 test sentences against nn::greedy_search's");
          const auto heeds_beam = translate(transformer_decoder, first, 4);
          course::check_exercise(
              lesson, 3, "reordering the caches",
              [&] {
                const MakeDecoder yours = [&](const Tensor& s, const Tensor& p) {
                  return std::make_unique<YourReorderDecoder>(model, s, p);
                };
                return translate(yours, first, 4) == heeds_beam;
              },
              "beam search (4 beams) with your reorder against heed's, 100 test sentences");
        }
        // Beam search (lesson 08) keeps the K most probable prefixes. A model
        // trained to the end on a corpus this regular is rarely in doubt, and
        // greedy finds nearly what the beam finds; beam search matters when a
        // model hesitates (as in quick mode's few epochs).
        const double transformer_greedy = bleu(translate(transformer_decoder, d.test), d.test);
        const double transformer_beam = bleu(translate(transformer_decoder, d.test, 4), d.test);
        const std::vector<std::vector<int64_t>> rnn_translations = translate(rnn_decoder, d.test);
        const double rnn_greedy = bleu(rnn_translations, d.test);
        const double rnn_beam = bleu(translate(rnn_decoder, d.test, 4), d.test);
        std::printf("\n  test BLEU (%zu sentences)  %12s %12s\n", d.test.size(), "greedy", "beam 4");
        std::printf("  %-26s %12.4f %12.4f\n", "Transformer", transformer_greedy, transformer_beam);
        std::printf("  %-26s %12.4f %12.4f\n", "RNN (GRU + Bahdanau)", rnn_greedy, rnn_beam);
        std::printf(
            "  training, %lld epochs each: Transformer %.2f s (%.2f s CPU), RNN %.2f s (%.2f s CPU)\n",
            (long long)epochs, transformer_run.wall.back(), transformer_run.cpu.back(), rnn_run.wall.back(),
            rnn_run.cpu.back());

        // ------------------------------------------------------------------
        lesson.section(6, "held-out sentences");
        // Test sentences, never trained on, beside their references ('=' when
        // a translation is the reference word for word).
        // They and the first heatmap below also go to <out>/15_finale.txt,
        // which `make run` shows again as the course's last word.
        std::ostringstream finale;
        {
          const std::vector<Example> shown(d.test.begin(), d.test.begin() + 6);
          const auto transformer = translate(transformer_decoder, shown);
          for (size_t i = 0; i < shown.size(); ++i) {
            std::ostringstream lines;
            lines << "  English      " << course::join(shown[i].pair->english) << "\n"
                  << "  reference    " << course::join(shown[i].pair->french) << "\n"
                  << "  Transformer  " << words(d.french, transformer[i])
                  << (transformer[i] == shown[i].target ? " =" : "") << "\n";
            finale << lines.str() << "\n";
            std::cout << lines.str() << "  RNN          " << words(d.french, rnn_translations[i])
                      << (rnn_translations[i] == shown[i].target ? " =" : "") << "\n\n";
          }
        }

        // ------------------------------------------------------------------
        lesson.section(7, "cross-attention");
        // Where does each French word look? The decoder's cross-attention
        // weights (B, H, T, S): row t is the word the decoder is about to
        // write, column s an English word. Two test sentences whose French
        // reorders the English (an adjective after its noun), the model's
        // own translations as the decoder input:
        std::vector<const Example*> picked;
        for (const Example& e : d.test)
          if (reorders(*e.pair) && picked.size() < 2) picked.push_back(&e);
        for (size_t k = 0; k < picked.size(); ++k) {
          const Example& e = *picked[k];
          const TrainingBatch b = batch_of({e}, {0});
          const std::vector<int64_t> translation = translate(transformer_decoder, {e})[0];
          std::vector<int64_t> input{Vocab::bos};
          input.insert(input.end(), translation.begin(), translation.end());
          const Tensor input_ids = course::make_batch({input}).ids;
          const Tensor w =
              cross_attention(model, b.source.ids, b.source.padding, input_ids).back();  // (1, H, T, S)
          std::vector<std::string> french, english = e.pair->english;
          for (int64_t id : translation) french.push_back(d.french.token(id));
          french.push_back("<eos>");
          const Tensor heads_mean = mean(select(w, 0, 0), {0});  // (T, S)
          const course::TerminalHeatmapOptions shape{
              .title = "cross-attention, mean of the 2 heads: " + course::join(english),
              .row_labels = french,
              .col_labels = english};
          course::print_heatmap(std::cout, heads_mean, shape);
          if (k == 0) course::print_heatmap(finale, heads_mean, shape);
          const std::string path = lesson.figure("cross_attention_" + std::to_string(k + 1),
                                                 "where each French word looks in the English (the heads' "
                                                 "mean): watch the adjectives swap sides");
          course::write_heatmap_svg(path, heads_mean,
                                    {.title = "cross-attention, mean of 2 heads",
                                     .row_labels = french,
                                     .col_labels = english,
                                     .x_label = "English",
                                     .y_label = "French",
                                     .low = 0,
                                     .high = 1});
          std::printf("  %s\n", path.c_str());
          if (k == 0)  // figure() made the folder
            std::ofstream(std::filesystem::path(lesson.flags().out) / "15_finale.txt") << finale.str();
          if (k == 0)
            for (int64_t h = 0; h < w.size(1); ++h) {
              const std::string head = lesson.figure(
                  "cross_attention_head_" + std::to_string(h + 1),
                  "the first sentence's cross-attention, head " + std::to_string(h + 1) + " alone");
              course::write_heatmap_svg(head, select(select(w, 0, 0), 0, h),
                                        {.title = "cross-attention, head " + std::to_string(h + 1),
                                         .row_labels = french,
                                         .col_labels = english,
                                         .x_label = "English",
                                         .y_label = "French",
                                         .low = 0,
                                         .high = 1});
              std::printf("  head %lld alone: %s\n", (long long)h + 1, head.c_str());
            }
        }
        // Does attention align? Teacher-forced on the test references, a French
        // word counts as aligned when its attention row's largest weight is on
        // the English word it translates (the grammar knows which).
        {
          Alignment heads[2], mean_of_heads, rnn_alignment;
          for (size_t i = 0; i < d.test.size(); i += kEvalBatch) {
            const std::vector<size_t> chunk = range(i, std::min(d.test.size(), i + kEvalBatch));
            const TrainingBatch b = batch_of(d.test, chunk);
            const Tensor w =
                cross_attention(model, b.source.ids, b.source.padding, b.input.ids).back();  // (B, H, T, S)
            Tensor rnn_w;
            {
              NoGradGuard no_grad;
              rnn_w = rnn.forward(b.source.ids, b.source.padding, b.labels.ids).weights.value();  // (B, T, S)
            }
            for (size_t j = 0; j < chunk.size(); ++j) {
              const Example& e = d.test[chunk[j]];
              const Tensor wb = select(w, 0, int64_t(j));  // (H, T, S)
              for (int64_t h = 0; h < 2; ++h) count_alignment(select(wb, 0, h), e, heads[h]);
              count_alignment(mean(wb, {0}), e, mean_of_heads);
              count_alignment(select(rnn_w, 0, int64_t(j)), e, rnn_alignment);
            }
          }
          std::printf(
              "  French words whose largest attention weight is on the English word they translate:\n");
          std::printf(
              "    Transformer head 1 %5.1f%%, head 2 %5.1f%%, mean of the heads %5.1f%%; RNN (Bahdanau) "
              "%5.1f%%\n",
              100 * heads[0].rate(), 100 * heads[1].rate(), 100 * mean_of_heads.rate(),
              100 * rnn_alignment.rate());
        }
        // On this grammar both attentions point at the word being translated
        // nearly every time: each is the decoder's one way to read the source,
        // and every French word here translates one English word. Real text is
        // less tidy, and with more layers a Transformer's heads divide the work,
        // so their weights become a weaker account of which word made which
        // (lesson 16 looks into that).

        // Seeded, so every run gets these numbers; the lesson fails loudly if
        // the translator stops reaching them.
        const double needed = lesson.pick(0.15, 0.95);
        HEED_CHECK(transformer_greedy >= needed, "the Transformer reached test BLEU ", transformer_greedy,
                   " (greedy), expected at least ", needed);
      });
}
