// Lesson 05: the RNN encoder-decoder, and its bottleneck.
//
// A sequence-to-sequence model reads a source sequence and writes a target
// sequence of another length, or the same one in another order. The classic
// design (Sutskever, Vinyals and Le 2014; Cho et al. 2014) is two recurrent
// networks: an encoder reads the source one symbol at a time into a state
// vector, and a decoder, started from the encoder's last state, writes the
// target one symbol at a time. Everything the decoder knows about the source
// is that one vector of Hid numbers, whether the source has 4 symbols or 40.
//
// This lesson builds that model from a GRU (section 2), trains it on the
// simplest task that needs all of the source, writing it backwards (sections
// 3-4), and measures what the fixed vector costs: accuracy falls as the
// sequences grow, and a wider vector only delays the fall
// (sections 5-7). Lesson 06 removes the bottleneck with
// attention.
#include "lessons/common/lesson.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "lessons/05_rnn/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/reversal.h"
#include "lessons/common/svg.h"
#include "nn/nn.h"

using namespace heed;
using course::AttentionKind;

namespace {

std::string symbols_of(const Tensor& row) {
  std::string text;
  for (const std::string& s : course::symbol_labels(row)) text += (text.empty() ? "" : " ") + s;
  return text;
}

std::string bar(double fraction, int width = 30) {
  const int n = int(fraction * width + 0.5);
  return std::string(size_t(n), '#') + std::string(size_t(width - n), '.');
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 5, .topic = "rnn", .title = "the RNN encoder-decoder"},
      [](const course::Lesson& lesson) {
        const course::ReversalSetup setup = course::reversal_setup(lesson.quick(), lesson.seed());
        const course::ReversalOptions& training = setup.training;

        // ------------------------------------------------------------------
        lesson.section(1, "the task: write the sequence backwards");
        // Sources are `symbols` random digits; the target is the source reversed.
        // Reversal needs every source symbol, and the first one written is the
        // last one read, so nothing can be copied on the fly: the decoder must
        // get everything from the encoder. Ids: digit k is id 4 + k, below it
        // pad 0, bos 1, eos 2, unk 3, as in every course vocabulary.
        {
          Generator gen(lesson.seed() + 1);
          const course::SequencePairs sample = course::reversal_batch(3, 6, training.symbols, gen);
          for (int64_t b = 0; b < 3; ++b)
            std::printf("  source %s   ->   target %s\n", symbols_of(select(sample.source, 0, b)).c_str(),
                        symbols_of(select(sample.target, 0, b)).c_str());
          std::printf("\n  training lengths %lld..%lld, %lld symbols; measured at lengths",
                      (long long)training.min_length, (long long)training.max_length,
                      (long long)training.symbols);
          for (int64_t L : setup.lengths) std::printf(" %lld", (long long)L);
          std::printf("\n");
        }

        // ------------------------------------------------------------------
        lesson.section(2, "the GRU cell");
        // A gated recurrent unit (Cho et al. 2014) updates its state h from an
        // input x with two gates, each a sigmoid in (0, 1):
        //   gi = x W_ih^T + b_ih,   gh = h W_hh^T + b_hh          (B, 3 Hid), split r | z | n
        //   r  = sigmoid(gi_r + gh_r)        the reset gate: how much of h the candidate sees
        //   z  = sigmoid(gi_z + gh_z)        the update gate: how much of h is kept
        //   n  = tanh(gi_n + r * gh_n)       the candidate state
        //   h' = (1 - z) * n + z * h         (B, Hid)
        // With z near 1 the state passes through a step unchanged, and so does its
        // gradient: that is how a GRU remembers over more steps than a plain
        // tanh RNN. Still, h' stays a vector of Hid numbers in (-1, 1).
        {
          nn::GRUCell cell({.input_size = 3, .hidden_size = 4, .seed = lesson.seed() + 2});
          Generator gen(lesson.seed() + 3);
          const Variable x(randn({2, 3}, gen)), h(randn({2, 4}, gen) * 0.5f);
          const Variable h_next = cell.forward(x, h);
          std::cout << "  x " << x.shape() << ", h " << h.shape() << "  ->  h' " << h_next.shape() << "\n"
                    << "  h' = " << h_next.value() << "\n";
          course::compare_exercise(
              lesson, 1, "a GRU step from its equations",
              [&] {
                return lesson05::gru_cell(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
                    .value();
              },
              h_next.value());
        }

        // ------------------------------------------------------------------
        lesson.section(3, "encoder, decoder and teacher forcing");
        // Encoder: embed the source (B, S) -> (B, S, E), run a GRU over it; keep
        // only its last state, the summary s = h_S: (B, Hid).
        // Decoder: a GRU cell started from s; step t reads the previous target
        // symbol and writes logits over the V ids:
        //   h_t = GRUCell(embed(y_{t-1}), h_{t-1}),  h_0 = s
        //   logits_t = W_out h_t                                  (B, V)
        // Teacher forcing: in training, step t reads the true y_{t-1} (bos at
        // t = 0), not the model's own guess, so all T steps learn at once from
        // one forward pass, and an early mistake does not derail the rest. At
        // test time there is no truth to read: greedy decoding feeds back its
        // own argmax (Seq2Seq::greedy).
        //   source  3 1 4 1 5          target (what the loss compares)  5 1 4 1 3
        //   decoder input  <bos> 5 1 4 1   (the target shifted right by one)
        {
          course::Seq2Seq model(course::reversal_model(setup, AttentionKind::none, lesson.seed() + 4));
          Generator gen(lesson.seed() + 5);
          const course::SequencePairs batch = course::reversal_batch(4, 6, training.symbols, gen);
          const course::Seq2SeqOutput out = model.forward(batch.source, Tensor(), batch.target);
          std::cout << "  source " << batch.source.shape() << " -> encoder state (B, Hid) = (4, "
                    << setup.hidden << ") -> logits " << out.logits.shape() << " (B, T, V)\n"
                    << "  untrained, its loss is about log V = "
                    << std::log(double(model.options().target_vocab)) << ": "
                    << nn::CrossEntropyLoss()(out.logits, batch.target).item() << "\n";
          course::compare_exercise(
              lesson, 2, "the teacher-forced forward pass",
              [&] { return lesson05::teacher_forced_logits(model, batch.source, batch.target).value(); },
              out.logits.value());
        }

        // ------------------------------------------------------------------
        lesson.section(4, "training on mixed lengths");
        // One model for all lengths: each step draws a length in
        // [min_length, max_length] and a batch of it (a batch is one length, so
        // nothing is padded). The loss is the cross-entropy of the (B, T, V)
        // logits against the (B, T) targets; gradients are clipped to norm 1 (an
        // RNN's gradient can spike when a gate saturates), and Adam's rate is
        // annealed by a cosine (lessons/common/reversal.cpp has the loop, which
        // lessons 06 and 07 reuse). The same weights then read every length,
        // so accuracy by length (section 5) isolates length; one model per
        // length would cost one training each and also compare different models.
        course::Seq2Seq model(course::reversal_model(setup, AttentionKind::none, lesson.seed() + 6));
        std::printf(
            "  GRU encoder-decoder, E %lld, Hid %lld, %lld parameters; %lld steps of %lld sequences\n\n",
            (long long)setup.embed, (long long)setup.hidden, (long long)model.num_parameters(),
            (long long)training.steps, (long long)training.batch);
        const course::TrainingRun run = course::train_reversal(model, training, "no attention");
        std::printf("\n  %.1f ms per step; final training loss %.3f\n", run.ms_per_step, run.final_loss);

        // ------------------------------------------------------------------
        lesson.section(5, "accuracy falls as the sequences grow");
        // Greedy decoding of `test_size` fresh sequences per length. Two
        // measures, both exact match: per token (the fraction of positions
        // right) and per sequence (the fraction of sequences with every position
        // right, which multiplies the per-token errors: at 95% per token, 16
        // positions are all right only ~44% of the time).
        // One row per length: the table, and the curves of the figure.
        auto measure = [&](course::Seq2Seq& m, const std::string& name, std::vector<course::Series>& curves) {
          Generator test_gen(lesson.seed() + 7);  // the same test sequences for every model
          course::Series tokens, sequences;
          tokens.name = name + ", per token";
          sequences.name = name + ", per sequence";
          course::Accuracy last;
          std::printf("  length   per token   per sequence\n");
          for (int64_t L : setup.lengths) {
            last = course::reversal_accuracy(m, L, setup.test_size, training.symbols, test_gen);
            std::printf("  %6lld   %8.1f%%   %11.1f%%   %s\n", (long long)L, 100 * last.token,
                        100 * last.sequence, bar(last.token).c_str());
            tokens.x.push_back(double(L));
            tokens.y.push_back(last.token);
            sequences.x.push_back(double(L));
            sequences.y.push_back(last.sequence);
          }
          curves.push_back(tokens);
          curves.push_back(sequences);
          return last;
        };
        std::vector<course::Series> curves;
        const course::Accuracy at_longest = measure(model, "Hid " + std::to_string(setup.hidden), curves);
        // The learner's exact match against the library's, on a padded batch:
        // rows of lengths 4, 3 and 2, one wrong token under the padding.
        {
          const Tensor target = from_vector({4, 5, 6, 7, 4, 5, 6, 0, 8, 9, 0, 0}, {3, 4});
          const Tensor predicted = from_vector({4, 5, 6, 7, 4, 9, 6, 5, 8, 9, 7, 7}, {3, 4});
          const Tensor padding = from_vector({0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1}, {3, 4});
          const course::Accuracy heeds = course::exact_match(predicted, target, padding);
          course::compare_exercise(
              lesson, 3, "exact-match accuracy",
              [&] {
                const course::Accuracy yours = lesson05::exact_match(predicted, target, padding);
                return from_vector({float(yours.token), float(yours.sequence)}, {2});
              },
              from_vector({float(heeds.token), float(heeds.sequence)}, {2}));
        }

        // ------------------------------------------------------------------
        lesson.section(6, "where the errors fall");
        // At the longest length, accuracy by output position. Output t copies
        // source position L-1-t: the first outputs need the symbols the encoder
        // read last, still fresh in its state; the last outputs need the first
        // symbols read, which had to survive L encoder steps and t decoder steps
        // inside the same Hid numbers. A bigger Hid or longer training moves the
        // curve right, but any fixed size has a length where it bends: that is
        // the bottleneck. Attention (lesson 06) lets every decoder step look at
        // every encoder state instead.
        {
          const int64_t L = setup.lengths.back();
          Generator gen(lesson.seed() + 8);
          const course::SequencePairs test =
              course::reversal_batch(setup.test_size, L, training.symbols, gen);
          const Tensor predicted = model.greedy(test.source, Tensor(), L).ids;
          const Tensor by_position = mean(eq(predicted, test.target), {0});  // (L,)
          course::Series series;
          series.name = "length " + std::to_string(L);
          std::printf("  output t (copies source L-1-t)   accuracy\n");
          for (int64_t t = 0; t < L; ++t) {
            const double a = by_position.data()[t];
            std::printf("  %8lld (source %2lld)             %5.1f%%  %s\n", (long long)t,
                        (long long)(L - 1 - t), 100 * a, bar(a).c_str());
            series.x.push_back(double(t));
            series.y.push_back(a);
          }
          course::write_line_plot_svg(
              lesson.figure("accuracy_by_position",
                            "the last outputs, which copy the first symbols read, are the most often wrong"),
              {series},
              {.title = "no attention: accuracy by output position",
               .x_label = "output position t",
               .y_label = "token accuracy"});
          for (int64_t b = 0; b < 2; ++b) {
            std::printf("\n  source    %s\n  reversed  %s\n  predicted %s\n",
                        symbols_of(select(test.source, 0, b)).c_str(),
                        symbols_of(select(test.target, 0, b)).c_str(),
                        symbols_of(select(predicted, 0, b)).c_str());
          }
        }

        // ------------------------------------------------------------------
        lesson.section(7, "a wider vector only moves the bend");
        // If the fixed vector is the limit, a wider one should hold longer
        // sequences, and still bend further out. The same training with twice
        // the hidden size (about three times the parameters):
        {
          course::ReversalSetup wide = setup;
          wide.hidden = 2 * setup.hidden;
          course::Seq2Seq wider(course::reversal_model(wide, AttentionKind::none, lesson.seed() + 6));
          std::printf("  Hid %lld, %lld parameters\n\n", (long long)wide.hidden,
                      (long long)wider.num_parameters());
          const course::TrainingRun wide_run =
              course::train_reversal(wider, wide.training, "Hid " + std::to_string(wide.hidden));
          std::printf("\n  %.1f ms per step\n\n", wide_run.ms_per_step);
          const course::Accuracy wide_longest = measure(wider, "Hid " + std::to_string(wide.hidden), curves);
          std::printf("\n  at length %lld: Hid %lld gets %.1f%% of tokens right, Hid %lld %.1f%%.\n",
                      (long long)setup.lengths.back(), (long long)setup.hidden, 100 * at_longest.token,
                      (long long)wide.hidden, 100 * wide_longest.token);
          // Seeded, so every run gets these numbers; the lesson fails loudly if
          // the effect it teaches goes missing.
          const double shortest = curves[0].y.front(), longest = at_longest.token;
          HEED_CHECK(shortest >= 0.95 && longest <= shortest - 0.25 && wide_longest.token >= longest + 0.05,
                     "expected the bottleneck (token accuracy >= 95% at the shortest length, 25 "
                     "points less at the longest, and the wider model 5 points better there), got ",
                     100 * shortest, "%, ", 100 * longest, "% and ", 100 * wide_longest.token, "%");
          course::write_line_plot_svg(
              lesson.figure("accuracy_by_length",
                            "accuracy falls with length; twice the hidden size only delays the fall"),
              curves,
              {.title = "GRU encoder-decoder on reversal, no attention",
               .x_label = "sequence length",
               .y_label = "exact-match accuracy"});
        }
      });
}
