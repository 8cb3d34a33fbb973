// Lesson 06: Bahdanau attention.
//
// Lesson 05's decoder knew the source only through the encoder's last state,
// one vector of Hid numbers, and its accuracy fell as sequences grew. Bahdanau,
// Cho and Bengio (2015, "Neural machine translation by jointly learning to
// align and translate") kept all of the encoder's states h_1 .. h_S and let
// every decoder step choose among them: the decoder's state scores each
// source position through a small network (the additive score), a softmax
// turns the scores into weights, and the weighted mean of the encoder states,
// the context, joins the decoder's input. Nothing has to squeeze through one
// vector any more; the weights, one distribution over the source per output,
// also show which source symbol each output was read from.
//
// Sections: the bottleneck again (1), the score (2), the masked softmax (3),
// the context and the decoder that uses it (4), the same training as lesson
// 05 with attention (5), and the weights themselves (6).
#include "lessons/common/lesson.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "lessons/06_bahdanau/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/heatmap.h"
#include "lessons/common/reversal.h"
#include "lessons/common/svg.h"
#include "nn/nn.h"

using namespace heed;
using course::AttentionKind;

namespace {

struct Curve {
  std::vector<course::Accuracy> at;  // one per measured length
};

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 6, .topic = "bahdanau", .title = "Bahdanau attention"},
      [](const course::Lesson& lesson) {
        const course::ReversalSetup setup = course::reversal_setup(lesson.quick(), lesson.seed());
        const course::ReversalOptions& training = setup.training;
        // Accuracy at every measured length, on the same test sequences for every model.
        auto measure = [&](course::Seq2Seq& model) {
          Generator test_gen(lesson.seed() + 7);
          Curve curve;
          for (int64_t L : setup.lengths)
            curve.at.push_back(
                course::reversal_accuracy(model, L, setup.test_size, training.symbols, test_gen));
          return curve;
        };

        // ------------------------------------------------------------------
        lesson.section(1, "the bottleneck, again");
        // Lesson 05's model and training, unchanged (same seeds, same numbers):
        // a GRU encoder-decoder whose decoder starts from the encoder's last state.
        course::Seq2Seq plain(course::reversal_model(setup, AttentionKind::none, lesson.seed() + 6));
        const course::TrainingRun plain_run = course::train_reversal(plain, training, "no attention");
        const Curve plain_curve = measure(plain);
        std::printf("\n  %.1f ms per step; token accuracy at length %lld: %.1f%%, at length %lld: %.1f%%\n",
                    plain_run.ms_per_step, (long long)setup.lengths.front(),
                    100 * plain_curve.at.front().token, (long long)setup.lengths.back(),
                    100 * plain_curve.at.back().token);

        // ------------------------------------------------------------------
        lesson.section(2, "the additive score");
        // The decoder's state q = h_t (B, Dq) scores each encoder output
        // k_j = h_j (B, S, Dk) with a one-hidden-layer network of width Hd:
        //   e_j = v^T tanh(W_q q + W_k k_j + b)         W_q: (Hd, Dq)  W_k: (Hd, Dk)  v: (Hd,)
        // Shapes: W_q q is (B, Hd), one row per query; W_k k is (B, S, Hd), one
        // row per key; unsqueezing the first to (B, 1, Hd) adds it to every key's
        // row; tanh then v give e: (B, S). W_k k does not depend on the step t,
        // so nn::BahdanauAttention::remember computes it once per source and each
        // decoder step pays only for W_q q and the tanh.
        // A padded key (a source shorter than the batch's longest) must get no
        // weight: its score is -infinity, whose exp is 0.
        nn::BahdanauAttention layer(
            {.query_size = 3, .key_size = 4, .hidden_size = 5, .seed = lesson.seed() + 2});
        Generator gen(lesson.seed() + 3);
        const Variable query(randn({2, 3}, gen)), keys(randn({2, 5, 4}, gen));
        const Tensor padding = nn::key_padding_mask({5, 3}, 5);  // row 1 has 3 keys, then 2 padded
        const nn::Attention attended = layer.forward(query, layer.remember(keys, padding));
        std::cout << "  query " << query.shape() << ", keys " << keys.shape()
                  << " (row 1: 3 keys, then padding)\n"
                  << "  weights = " << attended.weights.value() << "\n";
        course::compare_exercise(
            lesson, 1, "the additive score",
            [&] {
              // Compared through their softmax: the weights the layer gives.
              return softmax(lesson06::additive_scores(layer, query, keys, padding).value(), -1);
            },
            attended.weights.value());

        // ------------------------------------------------------------------
        lesson.section(3, "the masked softmax");
        //   a_j = exp(e_j - m) / sum_{visible i} exp(e_i - m),   m = max_{visible i} e_i
        // over the visible keys only, 0 at hidden ones. Subtracting m changes
        // nothing (it cancels) but keeps exp from overflowing. A row whose keys
        // are all hidden (an empty source, or a query every key is masked from)
        // has nothing to normalize: 0/0. heed gives it zeros, never NaN, so one
        // bad row cannot poison a batch's gradient.
        {
          const Tensor scores = from_vector({2.0f, 1.0f, 0.5f, -1.0f, 3.0f, 7.0f, 0.0f, 0.0f, 1.0f}, {3, 3});
          const Tensor mask = from_vector({0, 0, 0, 0, 1, 0, 1, 1, 1}, {3, 3});
          const Tensor heeds = masked_softmax(scores, mask, -1);
          std::cout << "  scores " << scores << "\n  mask (1 = hidden) " << mask << "\n  weights " << heeds
                    << "\n  (row 1: the hidden 3.0 takes no weight; row 2, all hidden, is all zeros)\n";
          course::compare_exercise(
              lesson, 2, "the masked softmax",
              [&] { return lesson06::masked_softmax_last(Variable(scores), mask).value(); }, heeds);
        }

        // ------------------------------------------------------------------
        lesson.section(4, "the context, and a decoder that reads it");
        // The context is the weighted mean of the encoder outputs,
        //   c_t = sum_j a_tj h_j      (B, 1, S)(B, S, Hid) -> (B, Hid)
        // a different summary of the source at every step. The decoder of
        // lessons/common/seq2seq.h uses it as Luong et al. (2015) do, with
        // input feeding:
        //   h_t  = GRUCell([embed(y_{t-1}); h~_{t-1}], h_{t-1})       (B, Hid)
        //   a_t  = softmax(e(h_t, h_1..S)),  c_t = sum_j a_tj h_j
        //   h~_t = tanh(W_c [c_t; h_t]),      logits_t = W_out h~_t
        // Feeding h~_{t-1} back tells the next step what was just attended to.
        // (Bahdanau's own decoder scored with h_{t-1} and fed c_t into the GRU;
        // the difference is one step of lag, not the idea.)
        course::compare_exercise(
            lesson, 3, "the context",
            [&] { return lesson06::additive_attention(layer, query, keys, padding).output.value(); },
            attended.output.value());

        // ------------------------------------------------------------------
        lesson.section(5, "the same task with attention");
        // Same sizes, same batches, same steps; only the decoder changed.
        course::Seq2Seq attending(course::reversal_model(setup, AttentionKind::bahdanau, lesson.seed() + 6));
        std::printf("  %lld parameters without attention, %lld with\n\n", (long long)plain.num_parameters(),
                    (long long)attending.num_parameters());
        const course::TrainingRun run = course::train_reversal(attending, training, "Bahdanau");
        const Curve curve = measure(attending);
        std::printf("\n  ms per step: %.1f without attention, %.1f with (each step scores all S keys)\n\n",
                    plain_run.ms_per_step, run.ms_per_step);
        std::printf("           no attention            Bahdanau\n");
        std::printf("  length   per token  per seq.     per token  per seq.\n");
        std::vector<course::Series> series(4);
        series[0].name = "no attention, per token";
        series[1].name = "no attention, per sequence";
        series[2].name = "Bahdanau, per token";
        series[3].name = "Bahdanau, per sequence";
        for (size_t i = 0; i < setup.lengths.size(); ++i) {
          const course::Accuracy& p = plain_curve.at[i];
          const course::Accuracy& a = curve.at[i];
          std::printf("  %6lld   %8.1f%%  %7.1f%%     %8.1f%%  %7.1f%%\n", (long long)setup.lengths[i],
                      100 * p.token, 100 * p.sequence, 100 * a.token, 100 * a.sequence);
          const double x = double(setup.lengths[i]);
          const double ys[4] = {p.token, p.sequence, a.token, a.sequence};
          for (int s = 0; s < 4; ++s) {
            series[s].x.push_back(x);
            series[s].y.push_back(ys[s]);
          }
        }
        course::write_line_plot_svg(
            lesson.figure("accuracy_by_length", "with attention the curves stay flat where lesson 05's fall"),
            series,
            {.title = "reversal: the GRU encoder-decoder with and without attention",
             .x_label = "sequence length",
             .y_label = "exact-match accuracy"});
        std::printf("\n  at length %lld attention keeps %.1f%% of tokens right, against %.1f%% without.\n",
                    (long long)setup.lengths.back(), 100 * curve.at.back().token,
                    100 * plain_curve.at.back().token);

        // Seeded, so every run gets these numbers; fail loudly if attention stops helping.
        HEED_CHECK(curve.at.back().token >= lesson.pick(0.85, 0.98) &&
                       curve.at.back().token >= plain_curve.at.back().token + 0.25,
                   "expected attention to hold up at length ", setup.lengths.back(),
                   " (>= ", 100 * lesson.pick(0.85, 0.98), "% and 25 points above no attention), got ",
                   100 * curve.at.back().token, "% against ", 100 * plain_curve.at.back().token, "%");

        // ------------------------------------------------------------------
        lesson.section(6, "what the decoder looks at");
        // Output t of a reversal copies source position S-1-t, so one expects
        // the weights on the anti-diagonal. There is a second way, one column
        // to the right: look at S-t, the symbol the decoder wrote the step
        // before. h_t has just read y_{t-1}, so the key that matches y_{t-1}
        // is easy to find by content (the symbol to write next is the
        // unknown), and the encoder is a forward GRU: its output at S-t has
        // read x_1 .. x_{S-t}, so it still holds x_{S-t-1}, the next symbol
        // to write, from one step earlier. The table below says which lookup
        // this model found; with this seed the short --quick run mostly looks
        // where it writes, and the full run settles on the symbol just written.
        // Nobody told it either: the weights are trained only through the loss
        // on the outputs. (A bidirectional encoder, as in Bahdanau's paper,
        // mixes both neighbours into every key and blurs the two.)
        {
          const int64_t L = setup.lengths[setup.lengths.size() / 2 + 1];
          Generator sample_gen(lesson.seed() + 9);
          const course::SequencePairs sample = course::reversal_batch(1, L, training.symbols, sample_gen);
          const course::Seq2Seq::Decoded decoded = attending.greedy(sample.source, Tensor(), L);
          const Tensor weights = select(decoded.weights, 0, 0);  // (T, S)
          const std::vector<std::string> source_labels = course::symbol_labels(select(sample.source, 0, 0));
          const std::vector<std::string> output_labels = course::symbol_labels(select(decoded.ids, 0, 0));
          course::print_heatmap(std::cout, weights,
                                {.title = "  Bahdanau weights, length " + std::to_string(L) +
                                          " (rows: outputs, columns: source)",
                                 .row_labels = output_labels,
                                 .col_labels = source_labels});
          course::write_heatmap_svg(
              lesson.figure("weights", "the weights run along the anti-diagonal, or one column to its right"),
              weights,
              {.title = "Bahdanau attention on a reversal (length " + std::to_string(L) + ")",
               .row_labels = output_labels,
               .col_labels = source_labels,
               .x_label = "source symbol",
               .y_label = "output symbol",
               .low = 0,
               .high = 1});
          // Where the largest weight sits, over the test sequences of each length.
          std::printf("\n  the largest weight of an output step lies on\n");
          std::printf("  length   the symbol it writes (S-1-t)   the symbol it just wrote (S-t, t >= 1)\n");
          Generator peak_gen(lesson.seed() + 10);
          for (int64_t length : setup.lengths) {
            const course::SequencePairs test =
                course::reversal_batch(setup.test_size, length, training.symbols, peak_gen);
            const course::AttentionPeaks peaks =
                course::attention_peaks(attending.greedy(test.source, Tensor(), length).weights);
            std::printf("  %6lld   %26.1f%%   %36.1f%%\n", (long long)length, 100 * peaks.writes,
                        100 * peaks.just_wrote);
          }
        }
      });
}
