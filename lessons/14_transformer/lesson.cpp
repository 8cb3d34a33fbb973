// Lesson 14: the Transformer.
//
// Lessons 09-11 built attention's pieces: scaled dot-product attention and its
// masks, multi-head attention, positions. The Transformer ("Attention Is All
// You Need", Vaswani et al. 2017) is an encoder-decoder made of nothing else:
//
//   encoder:  source ids (B, S) -> embeddings + positions -> N x [self-attention,
//             feed-forward] -> memory (B, S, D)
//   decoder:  target ids (B, T) -> embeddings + positions -> N x [causal
//             self-attention, cross-attention to the memory, feed-forward]
//             -> a linear layer -> logits (B, T, V)
//
// No recurrence: every position of a sequence is computed at once, so training
// is a few large matmuls instead of T small steps. Each sublayer sits inside a
// residual connection with a LayerNorm, and where the norm goes (after the sum,
// as in the paper, or before the sublayer) decides how easily a deep stack
// trains. This lesson builds the model from heed's layers (nn/transformer.h),
// trains it on the copy, reverse and sort tasks to 100% exact match on
// sequences it never saw, and shows the two tricks the paper trains with:
// label smoothing and the Noam learning-rate schedule.
//
//   1. the model             its parts and the shapes between them
//   2. the encoder layer     attention and feed-forward, residuals and norms
//   3. the decoder layer     shift right, the causal mask, cross-attention
//   4. label smoothing       a target distribution that is not one-hot
//   5. the Noam schedule     warmup, then 1 / sqrt(step)
//   6. copy, reverse, sort   trained, then decoded greedily through the KV caches
//   7. pre-norm, post-norm   a deeper stack, with and without warmup
//
// Run it: `make lesson N=14` (or build/lessons/lesson_14 [--quick]).
#include "lessons/common/lesson.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/14_transformer/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/progress.h"
#include "lessons/common/svg.h"
#include "lessons/common/tasks.h"
#include "nn/nn.h"

using namespace heed;
using course::SequenceTask;

namespace {

// The tasks: sequences of 10 symbols from 0..9. The decoder's start symbol is
// one more symbol, 10: it is embedded like the others, so the target
// vocabulary has 11 rows (the model never predicts it).
constexpr int64_t kSymbols = 10, kLength = 10, kStart = kSymbols;

struct ModelShape {
  int64_t layers = 1;  // on each side
  bool norm_first = true;
  uint64_t seed = 0;
};

// d_model 32, 2 heads, feed-forward 4 x 32, no dropout (the tasks have endless
// fresh data: nothing to overfit).
std::unique_ptr<nn::Seq2SeqTransformer> make_model(const ModelShape& shape) {
  return std::make_unique<nn::Seq2SeqTransformer>(
      nn::Seq2SeqTransformerOptions{.src_vocab = kSymbols,
                                    .tgt_vocab = kSymbols + 1,
                                    .d_model = 32,
                                    .nhead = 2,
                                    .num_encoder_layers = shape.layers,
                                    .num_decoder_layers = shape.layers,
                                    .dim_feedforward = 128,
                                    .dropout = 0.0f,
                                    .norm_first = shape.norm_first,
                                    .max_length = kLength,
                                    .seed = shape.seed});
}

// Teacher forcing's decoder input: target (B, T) -> (B, T), the start symbol
// then y_0 .. y_{T-2}. Position t reads y_{<t} and must predict y_t.
Tensor shift_right(const Tensor& target) {
  return cat({full({target.size(0), 1}, float(kStart)), narrow(target, 1, 0, target.size(1) - 1)}, 1);
}

// Greedy decoding through the key/value caches (Seq2SeqTransformer::make_decoder):
// source (B, 10) -> (B, 10).
Tensor greedy(nn::Seq2SeqTransformer& model, const Tensor& source) {
  std::unique_ptr<nn::Decoder> decoder = model.make_decoder(source);
  return nn::to_tensor(nn::greedy_search(*decoder, source.size(0),
                                         {.max_new_tokens = kLength, .decoder_start_token_id = kStart}),
                       -1.0f);
}

struct Scores {
  double exact = 0;   // sequences decoded entirely right
  double tokens = 0;  // symbols in the right place
};

Scores score(nn::Seq2SeqTransformer& model, const course::SequencePairs& data) {
  const Tensor right = eq(greedy(model, data.source), data.target);  // (B, T)
  return {mean(eq(sum(right, {1}), scalar(float(kLength)))).item(), mean(right).item()};
}

// The mean probability the model gives its own top choice, teacher-forced:
// how sure it is (label smoothing lowers it).
double confidence(nn::Seq2SeqTransformer& model, const course::SequencePairs& data) {
  NoGradGuard no_grad;
  const Tensor p = softmax(model.forward(data.source, shift_right(data.target)).value(), -1);  // (B, T, V)
  return mean(amax(p, {-1})).item();
}

struct TrainOptions {
  SequenceTask task = SequenceTask::copy;
  int64_t steps = 100, batch = 64;
  nn::Schedule schedule = nn::Constant{.value = 1e-3};
  float label_smoothing = 0.0f;
  uint64_t seed = 0;                             // of the batches
  std::string label = {};                        // shown on the progress bar; empty: train quietly
  const course::SequencePairs* probe = nullptr;  // scored at each progress line
};

struct Run {
  std::vector<double> loss;  // every step's
  double seconds = 0;
};

// The loop of lesson 04 on fresh random batches: Adam with the paper's betas
// (0.9, 0.98), the learning rate from the schedule, gradients clipped to norm 1.
Run train(nn::Seq2SeqTransformer& model, const TrainOptions& o) {
  nn::Adam adam(model.named_parameters(), {.lr = 1e-3, .betas = {0.9, 0.98}, .eps = 1e-9});
  const nn::CrossEntropyLoss criterion({.label_smoothing = o.label_smoothing});
  Generator gen(o.seed);
  const int64_t chunks = 5;  // progress lines
  std::unique_ptr<course::Progress> progress;
  if (!o.label.empty())
    progress = std::make_unique<course::Progress>(
        course::ProgressOptions{.label = o.label, .epochs = chunks, .steps_per_epoch = o.steps / chunks});
  Run run;
  const auto start = std::chrono::steady_clock::now();
  model.train();
  for (int64_t step = 0; step < o.steps; ++step) {
    const course::SequencePairs b = course::sequence_task(o.task, o.batch, kLength, kSymbols, gen);
    nn::apply_schedule(adam, o.schedule);
    adam.zero_grad();
    // logits (B, T, V) against the targets (B, T)
    Variable loss = criterion(model.forward(b.source, shift_right(b.target)), b.target);
    loss.backward();
    nn::clip_grad_norm(model.parameters(), 1.0);
    adam.step();
    run.loss.push_back(loss.item());
    if (progress) {
      progress->step(loss.item(), o.batch * kLength);
      if ((step + 1) % (o.steps / chunks) == 0 && step + 1 <= chunks * (o.steps / chunks)) {
        char note[64] = "";
        if (o.probe) {
          model.eval();
          std::snprintf(note, sizeof note, "held-out exact %.1f%%", 100 * score(model, *o.probe).exact);
          model.train();
        }
        progress->end_epoch(note);
      }
    }
  }
  if (progress) progress->finish();
  model.eval();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

// Every `every` losses averaged: a curve that reads through Adam's noise.
course::Series smoothed(const std::string& name, const std::vector<double>& loss, size_t every) {
  course::Series s{.name = name, .x = {}, .y = {}};
  for (size_t i = 0; i + every <= loss.size(); i += every) {
    double total = 0;
    for (size_t j = i; j < i + every; ++j) total += loss[j];
    s.x.push_back(double(i + every));
    s.y.push_back(total / double(every));
  }
  return s;
}

std::string row_string(const Tensor& ids, int64_t b) {
  std::string s;
  for (int64_t t = 0; t < ids.size(1); ++t) {
    const int v = int(ids.at({b, t}));
    s += v == kStart ? "S" : std::to_string(v);
    s += t + 1 < ids.size(1) ? " " : "";
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 14, .topic = "transformer", .title = "the Transformer"},
      [](const course::Lesson& lesson) {
        // ------------------------------------------------------------------
        lesson.section(1, "the model");
        // Seq2SeqTransformer holds the whole encoder-decoder. With B sequences,
        // S source and T target positions, D = d_model, V target symbols:
        //   src_embed(ids) * sqrt(D) + PE        (B, S) -> (B, S, D)
        //   encoder: layers, then a LayerNorm    (B, S, D) -> memory (B, S, D)
        //   tgt_embed(ids) * sqrt(D) + PE        (B, T) -> (B, T, D)
        //   decoder: layers (each reads memory)  (B, T, D) -> (B, T, D)
        //   output_proj                          (B, T, D) -> logits (B, T, V)
        // PE is the sinusoidal table of lesson 11, one row per position; the
        // sqrt(D) makes the embeddings' rows as large as the table's.
        std::unique_ptr<nn::Seq2SeqTransformer> model =
            make_model({.layers = 1, .norm_first = true, .seed = lesson.seed() + 14});
        std::printf("  %s\n", model->describe().c_str());
        std::printf("  %-12s %10s   %s\n", "part", "parameters", "");
        auto part = [](const char* name, const nn::Module& m) {
          std::printf("  %-12s %10lld   %s\n", name, (long long)m.num_parameters(), m.describe().c_str());
        };
        part("src_embed", *model->src_embed);
        part("tgt_embed", *model->tgt_embed);
        part("encoder", *model->encoder);
        part("  layer 0", *model->encoder->layers[0]);
        part("decoder", *model->decoder);
        part("  layer 0", *model->decoder->layers[0]);
        part("output_proj", *model->output_proj);
        std::printf("  %-12s %10lld\n", "total", (long long)model->num_parameters());
        Generator data_gen(lesson.seed() + 1);
        const course::SequencePairs example =
            course::sequence_task(SequenceTask::reverse, 3, kLength, kSymbols, data_gen);
        {
          NoGradGuard no_grad;
          const Variable memory = model->encode(example.source);
          const Variable logits = model->forward(example.source, shift_right(example.target));
          std::cout << "  source " << example.source.shape() << " -> memory " << memory.shape()
                    << "; decoder input " << example.target.shape() << " -> logits " << logits.shape()
                    << "\n";
        }

        // ------------------------------------------------------------------
        lesson.section(2, "the encoder layer");
        // Two sublayers: multi-head self-attention SA (lesson 10), which mixes
        // positions, and a feed-forward FF applied to each position alone,
        //   FF(x) = linear2(relu(linear1(x)))     D -> 4D -> D
        // which transforms what attention gathered. Each is wrapped in a
        // residual connection, x + sublayer(x), so a layer starts close to the
        // identity and gradients reach early layers through the sums. The
        // LayerNorm goes either after the sum or before the sublayer:
        //   post-norm (the paper):   x = norm1(x + SA(x));   x = norm2(x + FF(x))
        //   pre-norm:                x = x + SA(norm1(x));   x = x + FF(norm2(x))
        // Pre-norm keeps the residual path free of norms: the output is the
        // input plus every sublayer's contribution, x + f1 + f2 + ..., and one
        // final LayerNorm (the encoder's `norm`) normalizes the sum. Section 7
        // shows what that path buys.
        // Exercise 1 writes the layer from its sublayers; here it runs beside
        // heed's on both arrangements, with the same weights.
        for (bool norm_first : {true, false}) {
          nn::TransformerEncoderLayer layer({.d_model = 32,
                                             .nhead = 2,
                                             .dim_feedforward = 128,
                                             .dropout = 0.0f,
                                             .norm_first = norm_first,
                                             .seed = lesson.seed() + 2});
          Generator gen(lesson.seed() + 3);
          const Variable x(randn({3, 7, 32}, gen));
          const nn::AttentionMasks masks{.key_padding = nn::key_padding_mask({7, 5, 2}, 7)};
          const Tensor heeds = layer.forward(x, masks).value();
          course::compare_exercise(
              lesson, 1, norm_first ? "a pre-norm encoder layer" : "a post-norm encoder layer",
              [&] { return lesson14::encoder_layer_forward(layer, x, masks).value(); }, heeds, 1e-5);
        }

        // ------------------------------------------------------------------
        lesson.section(3, "the decoder layer");
        // Teacher forcing, as in lessons 05-08: in training the decoder reads
        // the reference, shifted right by one position behind a start symbol S,
        // and position t predicts y_t from y_0 .. y_{t-1}:
        {
          std::printf("  source          %s\n", row_string(example.source, 0).c_str());
          std::printf("  target y        %s\n", row_string(example.target, 0).c_str());
          std::printf("  decoder input   %s\n", row_string(shift_right(example.target), 0).c_str());
        }
        // An RNN reads its input in order, so it cannot peek. Self-attention
        // sees every position at once, so the decoder's self-attention needs
        // the causal mask: query t sees keys <= t (1 = hidden):
        {
          const Tensor mask = nn::causal_mask(6);
          for (int64_t i = 0; i < 6; ++i) {
            std::printf("    ");
            for (int64_t j = 0; j < 6; ++j) std::printf("%d ", int(mask.at({i, j})));
            std::printf("\n");
          }
        }
        // Then cross-attention CA: queries from the decoder, keys and values
        // from the memory, (B, T, D) x (B, S, D) -> (B, T, D); it is the
        // Bahdanau and Luong attention of lessons 06-07, with dot products and
        // heads. And the feed-forward, as in the encoder. Three sublayers:
        //   post-norm:  y = norm1(y + SA(y));  y = norm2(y + CA(y, m));  y = norm3(y + FF(y))
        //   pre-norm:   y = y + SA(norm1(y));  y = y + CA(norm2(y), m);  y = y + FF(norm3(y))
        // The mask is what makes one training step teach all T predictions at
        // once. The proof: change the decoder input at position 5 and only the
        // logits from position 5 on move (max |change| per position):
        {
          NoGradGuard no_grad;
          Tensor input = shift_right(example.target), changed = clone(input);
          changed.at({0, 5}) = float((int(changed.at({0, 5})) + 1) % kSymbols);
          const Tensor a = model->forward(example.source, input).value(),
                       b = model->forward(example.source, changed).value();
          const Tensor moved = amax(abs(sub(a, b)), {2});  // (B, T)
          std::printf("  position      ");
          for (int64_t t = 0; t < kLength; ++t) std::printf("%8lld", (long long)t);
          std::printf("\n  |change|      ");
          for (int64_t t = 0; t < kLength; ++t) std::printf("%8.1e", double(moved.at({0, t})));
          std::printf("\n");
        }
        {
          nn::TransformerDecoderLayer layer({.d_model = 32,
                                             .nhead = 2,
                                             .dim_feedforward = 128,
                                             .dropout = 0.0f,
                                             .norm_first = false,
                                             .seed = lesson.seed() + 4});
          Generator gen(lesson.seed() + 5);
          const Variable y(randn({3, 6, 32}, gen)), memory(randn({3, 7, 32}, gen));
          const Tensor padding = nn::key_padding_mask({7, 4, 1}, 7);
          const Tensor heeds = layer.forward(y, memory, {.causal = true}, {.key_padding = padding}).value();
          course::compare_exercise(
              lesson, 2, "a post-norm decoder layer",
              [&] { return lesson14::decoder_layer_forward(layer, y, memory, padding).value(); }, heeds,
              1e-5);
        }

        // ------------------------------------------------------------------
        lesson.section(4, "label smoothing");
        // Cross-entropy against a one-hot target keeps pushing the right logit
        // up: its loss -log p only reaches 0 at p = 1, infinitely confident.
        // Label smoothing (Szegedy et al. 2016; the paper uses e = 0.1) trains
        // against a softened target instead:
        //   q = (1 - e) onehot(y) + e / C         loss = -sum_c q_c log p_c
        //   d loss / d logits = softmax(logits) - q
        // Its minimum is at p = q, finite logits: the model keeps some doubt.
        // With C = 10 classes and the right logit m above the nine others:
        {
          const int64_t C = 10;
          const nn::CrossEntropyLoss plain, smooth({.label_smoothing = 0.1f});
          std::printf("  %-8s %10s %14s %16s\n", "margin m", "p(right)", "loss, e = 0", "loss, e = 0.1");
          for (float m : {0.0f, 2.0f, 4.0f, 5.0f, 6.0f, 8.0f, 12.0f}) {
            Tensor logits = zeros({1, C});
            logits.at({0, 0}) = m;
            const Tensor target = Tensor{0.0f};
            std::printf("  %-8.0f %10.4f %14.4f %16.4f\n", double(m), double(softmax(logits, -1).at({0, 0})),
                        double(plain(Variable(logits), target).item()),
                        double(smooth(Variable(logits), target).item()));
          }
          // The smoothed loss is least where p(right) = 1 - e + e / C = 0.91:
          // m = log(0.91 / 0.01) = 4.5; beyond it, more confidence costs.
          Generator gen(lesson.seed() + 6);
          const Tensor logits = randn({17, C}, gen) * 3.0f;
          std::vector<float> ids;
          for (int64_t i = 0; i < 17; ++i) ids.push_back(float(i % 4 == 3 ? 2 : gen.randint(C)));
          const Tensor target = from_vector(ids, {17});  // class 2 is ignored below
          const nn::CrossEntropyLoss criterion({.ignore_index = 2, .label_smoothing = 0.1f});
          Variable theirs(logits, true), mine(logits, true);
          Variable loss = criterion(theirs, target);
          loss.backward();
          Variable yours;
          if (course::compare_exercise(
                  lesson, 3, "label-smoothed cross-entropy",
                  [&] {
                    yours = lesson14::label_smoothed_cross_entropy(mine, target, 0.1f, 2);
                    return yours.value();
                  },
                  loss.value(), 1e-5) &&
              course::compare_exercise(
                  lesson, 3, "its gradient",
                  [&] {
                    yours.backward();
                    return mine.grad();
                  },
                  theirs.grad(), 1e-6))
            course::check_exercise(
                lesson, 3, "its gradcheck",
                [&] {
                  return gradcheck(
                             [&](const std::vector<Variable>& v) {
                               return lesson14::label_smoothed_cross_entropy(v[0], target, 0.1f, 2);
                             },
                             {logits})
                      .ok;
                },
                "your backward against central differences");
        }

        // ------------------------------------------------------------------
        lesson.section(5, "the Noam schedule");
        // The paper's learning rate (section 5.3), nn::Noam:
        //   lr(s) = factor * D^-0.5 * min(s^-0.5, s * warmup^-1.5)
        // A linear warmup to the peak at s = warmup, lr = factor (D warmup)^-0.5,
        // then a decay as 1 / sqrt(s). Adam's second-moment estimates start
        // from a handful of gradients; early steps at the full rate, divided by
        // those noisy estimates, can throw a post-norm network somewhere it
        // never recovers from (section 7). The paper's D = 512, warmup = 4000:
        {
          const nn::Noam paper{.d_model = 512, .warmup_steps = 4000};
          std::printf("  %-10s", "step");
          for (int64_t s : {1, 1000, 2000, 4000, 8000, 16000, 100000}) std::printf("%11lld", (long long)s);
          std::printf("\n  %-10s", "lr");
          for (int64_t s : {1, 1000, 2000, 4000, 8000, 16000, 100000}) std::printf("%11.2e", paper(s - 1));
          std::printf("\n");
          // nn::Noam counts steps from 0 (the updates already made), the paper
          // from 1: paper(s - 1) is the paper's lr(s).
        }
        // The formula only sets the shape: with D = 32 and a few hundred steps
        // the factor is chosen for the peak wanted. Peak 1e-2 at warmup 50:
        // factor = 1e-2 sqrt(32 * 50) = 0.4. The decay never ends: at 20 times
        // the warmup the rate is still 22% of its peak. Exact match counts every
        // one of a thousand sequences, and a rate that stays up keeps Adam's
        // noise in the weights (the tests of nn/ measured a few sequences in a
        // thousand left wrong), so the runs of section 6 warm up the same way
        // but decay to 0 with a half cosine (nn::LinearWarmup + nn::CosineAnnealing).
        {
          std::vector<course::Series> curves;
          const int64_t steps = 1000;
          auto curve = [&](const std::string& name, const nn::Schedule& schedule) {
            course::Series s{.name = name, .x = {}, .y = {}};
            for (int64_t step = 0; step < steps; ++step) {
              s.x.push_back(double(step));
              s.y.push_back(schedule(step));
            }
            curves.push_back(s);
          };
          for (int64_t warmup : {50, 100, 200})
            curve("Noam, warmup " + std::to_string(warmup),
                  nn::Noam{.d_model = 32,
                           .warmup_steps = warmup,
                           .factor = 1e-2 * std::sqrt(32.0 * double(warmup))});
          curve("warmup 100 + cosine",
                nn::LinearWarmup{.warmup_steps = 100,
                                 .after = nn::CosineAnnealing{.base_lr = 1e-2, .t_max = steps - 100}});
          const std::string path = lesson.figure(
              "schedules",
              "Noam warms up linearly, then decays as 1 / sqrt(step) and never reaches 0; the cosine does");
          course::write_line_plot_svg(path, curves,
                                      {.title = "learning-rate schedules, D = 32, peak 1e-2",
                                       .x_label = "step",
                                       .y_label = "learning rate"});
          std::printf("  the schedules: %s\n", path.c_str());
        }

        // ------------------------------------------------------------------
        lesson.section(6, "copy, reverse and sort");
        // Each task gets a fresh model (one layer a side), trained on random
        // batches of 64, then scored on 1000 held-out sequences (10^10 exist:
        // training meets almost none of them) by exact match: the share decoded
        // entirely right. Decoding is greedy, one symbol at a time, through the
        // decoder's key/value caches (the encoder runs once, and each step adds
        // one position to every self-attention's cached keys and values).
        // Copy and reverse are fixed alignments (output t reads source t, or
        // 9 - t) that attention can only find through the positional encodings:
        // their loss sits near log 10 until the alignment clicks, then falls at
        // once. Sort needs no positions, only how many of each symbol there
        // are: it learns from the first steps, but takes longest to get every
        // one of a thousand sequences right.
        Generator held_out_gen(lesson.seed() + 7);
        struct TaskRun {
          SequenceTask task;
          int64_t steps;
          double lr;  // the peak; sort's smaller one leaves fewer of its thousand sequences wrong
        };
        const std::vector<TaskRun> task_runs = {{SequenceTask::copy, lesson.pick<int64_t>(150, 400), 5e-3},
                                                {SequenceTask::reverse, lesson.pick<int64_t>(150, 400), 5e-3},
                                                {SequenceTask::sort, lesson.pick<int64_t>(250, 2000), 3e-3}};
        const int64_t held_out = lesson.pick<int64_t>(200, 1000);
        std::vector<std::pair<std::string, Scores>> results;
        std::vector<std::unique_ptr<nn::Seq2SeqTransformer>> trained;
        std::vector<double> seconds;
        for (const TaskRun& r : task_runs) {
          const course::SequencePairs test =
              course::sequence_task(r.task, held_out, kLength, kSymbols, held_out_gen);
          const course::SequencePairs probe{narrow(test.source, 0, 0, 200), narrow(test.target, 0, 0, 200)};
          std::unique_ptr<nn::Seq2SeqTransformer> m =
              make_model({.layers = 1, .norm_first = true, .seed = lesson.seed() + 15});
          const int64_t warmup = r.steps / 10;
          const Run run = train(
              *m, {.task = r.task,
                   .steps = r.steps,
                   .schedule = nn::LinearWarmup{.warmup_steps = warmup,
                                                .after = nn::CosineAnnealing{.base_lr = r.lr,
                                                                             .t_max = r.steps - warmup}},
                   .seed = lesson.seed() + 100 + uint64_t(r.task),
                   .label = course::name_of(r.task),
                   .probe = &probe});
          const Scores s = score(*m, test);
          results.emplace_back(course::name_of(r.task), s);
          const Tensor guess = greedy(*m, narrow(test.source, 0, 0, 2));
          for (int64_t b = 0; b < 2; ++b)
            std::printf("  %-8s %s  ->  %s%s\n", b == 0 ? course::name_of(r.task) : "",
                        row_string(test.source, b).c_str(), row_string(guess, b).c_str(),
                        allclose(narrow(guess, 0, b, 1), narrow(test.target, 0, b, 1)) ? "" : "  (wrong)");
          seconds.push_back(run.seconds);
          trained.push_back(std::move(m));
        }
        std::printf("\n  %-8s %7s %10s %16s %12s\n", "task", "steps", "seconds", "symbols right",
                    "exact match");
        for (size_t i = 0; i < results.size(); ++i)
          std::printf("  %-8s %7lld %10.1f %15.2f%% %11.2f%%\n", results[i].first.c_str(),
                      (long long)task_runs[i].steps, seconds[i], 100 * results[i].second.tokens,
                      100 * results[i].second.exact);
        // Label smoothing on reverse: the same steps and batches with e = 0.1.
        // Exact match should not suffer; the model's confidence in its own
        // answers (the mean top probability, teacher-forced) drops from nearly
        // 1 to about 1 - e + e / V.
        {
          const course::SequencePairs test =
              course::sequence_task(SequenceTask::reverse, held_out, kLength, kSymbols, held_out_gen);
          std::unique_ptr<nn::Seq2SeqTransformer> m =
              make_model({.layers = 1, .norm_first = true, .seed = lesson.seed() + 15});
          const int64_t steps = task_runs[1].steps, warmup = steps / 10;
          train(*m, {.task = SequenceTask::reverse,
                     .steps = steps,
                     .schedule = nn::LinearWarmup{.warmup_steps = warmup,
                                                  .after = nn::CosineAnnealing{.base_lr = 5e-3,
                                                                               .t_max = steps - warmup}},
                     .label_smoothing = 0.1f,
                     .seed = lesson.seed() + 100 + uint64_t(SequenceTask::reverse)});
          std::printf("\n  reverse, %-22s exact match %6.2f%%, mean top probability %.4f\n",
                      "without smoothing:", 100 * score(*trained[1], test).exact,
                      confidence(*trained[1], test));
          std::printf("  reverse, %-22s exact match %6.2f%%, mean top probability %.4f\n",
                      "label smoothing 0.1:", 100 * score(*m, test).exact, confidence(*m, test));
        }
        // Seeded, so every run gets these numbers; the lesson fails loudly if
        // a task stops reaching them (quick mode trains too briefly for 100%).
        for (size_t i = 0; i < results.size(); ++i) {
          const double needed = lesson.pick(i < 2 ? 0.5 : 0.0, 1.0);
          const double needed_tokens = lesson.pick(i < 2 ? 0.9 : 0.5, 1.0);
          HEED_CHECK(results[i].second.exact >= needed && results[i].second.tokens >= needed_tokens,
                     results[i].first, " reached ", 100 * results[i].second.exact, "% exact match (",
                     100 * results[i].second.tokens, "% of symbols), expected at least ", 100 * needed, "% (",
                     100 * needed_tokens, "%)");
        }

        // ------------------------------------------------------------------
        lesson.section(7, "pre-norm against post-norm");
        // Four layers a side, reverse, Adam at a peak rate of 1e-2, three runs
        // from the same initial weights and the same batches:
        //   pre-norm,  the full rate from step 1
        //   post-norm, the full rate from step 1
        //   post-norm, the Noam schedule (warmup 50 steps to the same peak)
        // In post-norm every sublayer's output passes a LayerNorm before the
        // next layer reads it, so the gradient reaching layer 1 has crossed 16
        // norms (8 a side); Xiong et al. (2020) show it is largest near the
        // output at initialization, and that a large early step there is what
        // warmup prevents. Pre-norm's residual path has no norm on it: the
        // gradient flows straight down, and no warmup is needed.
        {
          const int64_t steps = lesson.pick<int64_t>(50, 300), batch = lesson.pick<int64_t>(32, 64);
          std::vector<course::Series> curves;
          std::printf("  %-34s %12s %12s\n", "", "final loss", "exact match");
          const course::SequencePairs test =
              course::sequence_task(SequenceTask::reverse, held_out, kLength, kSymbols, held_out_gen);
          struct NormRun {
            const char* name;
            bool norm_first, warmup;
          };
          for (const NormRun& r :
               {NormRun{"pre-norm, no warmup", true, false}, NormRun{"post-norm, no warmup", false, false},
                NormRun{"post-norm, Noam warmup 50", false, true}}) {
            std::unique_ptr<nn::Seq2SeqTransformer> m =
                make_model({.layers = 4, .norm_first = r.norm_first, .seed = lesson.seed() + 16});
            nn::Schedule schedule = nn::Constant{.value = 1e-2};
            if (r.warmup)
              schedule = nn::Noam{.d_model = 32, .warmup_steps = 50, .factor = 1e-2 * std::sqrt(32.0 * 50)};
            const Run run = train(*m, {.task = SequenceTask::reverse,
                                       .steps = steps,
                                       .batch = batch,
                                       .schedule = schedule,
                                       .seed = lesson.seed() + 200});
            const course::Series s = smoothed(r.name, run.loss, 10);
            std::printf("  %-34s %12.4f %11.2f%%\n", r.name, s.y.back(), 100 * score(*m, test).exact);
            curves.push_back(s);
          }
          const std::string path = lesson.figure("pre_post_norm",
                                                 "at the full learning rate from step 1 post-norm stalls; "
                                                 "pre-norm, or post-norm with a warmup, learns");
          course::write_line_plot_svg(path, curves,
                                      {.title = "reverse, 4 + 4 layers, peak lr 1e-2: training loss",
                                       .x_label = "step",
                                       .y_label = "cross-entropy (mean of 10 steps)",
                                       .log_y = true});
          std::printf("  loss curves: %s\n", path.c_str());
        }
        // What to see: post-norm at the full rate from step 1 stays near the
        // loss of guessing (log 10 = 2.3) for most of the run and ends far
        // behind, while pre-norm learns from the start; the same post-norm
        // network with the warmup learns too. That is why the paper needed
        // warmup, and why most Transformers since put the norm first.
      });
}
