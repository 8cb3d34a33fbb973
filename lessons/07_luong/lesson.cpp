// Lesson 07: Luong attention, five ways.
//
// Luong, Pham and Manning (2015, "Effective approaches to attention-based
// neural machine translation") took lesson 06's idea apart into choices:
// how the decoder state h_t scores an encoder state h_s (dot, general,
// concat, or location, which looks at no h_s at all), and where it may look
// (everywhere, "global", or in a window around a predicted position,
// "local-p"). The context then joins h_t in the attentional state
//   h~_t = tanh(W_c [c_t; h_t])
// that predicts the next symbol and feeds the next step (input feeding).
//
// This lesson writes three of the pieces (sections 2-4), then trains all five
// variants on lesson 05's reversal task, side by side: accuracy by length,
// time per step, and where each one looks (sections 5-6).
#include "lessons/common/lesson.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "lessons/07_luong/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/heatmap.h"
#include "lessons/common/reversal.h"
#include "lessons/common/svg.h"
#include "nn/nn.h"

using namespace heed;
using course::AttentionKind;

namespace {

constexpr AttentionKind kKinds[] = {AttentionKind::luong_dot, AttentionKind::luong_general,
                                    AttentionKind::luong_concat, AttentionKind::luong_location,
                                    AttentionKind::luong_local_p};

// "Luong local-p" -> "local_p", for figure names.
std::string short_name(AttentionKind kind) {
  switch (kind) {
    case AttentionKind::luong_dot:
      return "dot";
    case AttentionKind::luong_general:
      return "general";
    case AttentionKind::luong_concat:
      return "concat";
    case AttentionKind::luong_location:
      return "location";
    case AttentionKind::luong_local_p:
      return "local_p";
    default:
      return "other";
  }
}

struct Result {
  AttentionKind kind = AttentionKind::luong_dot;
  int64_t parameters = 0;
  double ms_per_step = 0;
  std::vector<course::Accuracy> at;  // one per measured length
  course::AttentionPeaks peaks;      // at the longest length
};

// A training step's time (forward, backward, clipping, Adam) on one batch of
// the longest length: the fastest of `runs` runs of 3 steps. The minimum is the
// run least disturbed by whatever else the machine is doing; training's own
// average (TrainingRun::ms_per_step) mixes lengths and load.
double time_step(course::Seq2Seq& model, const course::ReversalSetup& setup, int runs, uint64_t seed) {
  Generator gen(seed);
  const course::SequencePairs batch =
      course::reversal_batch(setup.training.batch, setup.training.max_length, setup.training.symbols, gen);
  nn::Adam adam(model.named_parameters(), {.lr = 1e-6});  // the model is done: a tiny rate
  nn::CrossEntropyLoss criterion;
  double best = 1e30;
  for (int run = 0; run < runs; ++run) {
    const auto start = std::chrono::steady_clock::now();
    for (int step = 0; step < 3; ++step) {
      adam.zero_grad();
      criterion(model.forward(batch.source, Tensor(), batch.target).logits, batch.target).backward();
      nn::clip_grad_norm(model.parameters(), 1.0);
      adam.step();
    }
    best = std::min(
        best,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / 3);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 7, .topic = "luong", .title = "Luong attention"},
      [](const course::Lesson& lesson) {
        // Lesson 05's task and sizes; fewer steps, as there are five models to train.
        course::ReversalSetup setup = course::reversal_setup(lesson.quick(), lesson.seed());
        setup.training.steps = lesson.pick<int64_t>(500, 1500);
        const course::ReversalOptions& training = setup.training;

        // ------------------------------------------------------------------
        lesson.section(1, "scores and windows");
        // h_t: (B, Hid) the decoder's state, h_s: (B, S, Hid) the encoder's outputs.
        //   dot       score_s = h_t . h_s                    no parameters
        //   general   score_s = h_t^T W_a h_s                W_a: (Hid, Hid)
        //   concat    score_s = v_a^T tanh(W_a [h_t; h_s])   W_a: (Hid, 2 Hid), v_a: (Hid,)
        //             (lesson 06's additive score, with h_t instead of h_{t-1})
        //   location  score = W_a h_t                        W_a: (S_max, Hid), one score per
        //             position: where to look is decided from h_t alone, never from what is there
        // All four: a_t = softmax(score) over the source, c_t = sum_s a_ts h_s.
        // local-p restricts the softmax to [p_t - D, p_t + D] around a predicted
        // position p_t and multiplies it by a Gaussian of width sigma = D / 2
        // centred there (section 4); here it uses the dot score.
        // An untrained layer of each kind, one query against 6 keys:
        {
          Generator gen(lesson.seed() + 1);
          const int64_t Hid = 4, S = 6;
          const Variable h_t(randn({1, Hid}, gen)), keys(randn({1, S, Hid}, gen));
          for (AttentionKind kind : kKinds) {
            const bool local = kind == AttentionKind::luong_local_p;
            nn::LuongAttention layer(
                {.hidden_size = Hid,
                 .score = kind == AttentionKind::luong_dot || local ? nn::LuongScore::dot
                          : kind == AttentionKind::luong_general    ? nn::LuongScore::general
                          : kind == AttentionKind::luong_concat     ? nn::LuongScore::concat
                                                                    : nn::LuongScore::location,
                 .window = local ? nn::LuongWindow::local_p : nn::LuongWindow::global,
                 .half_window = local ? 1 : 0,
                 .max_source_length = S,
                 .seed = lesson.seed() + 2});
            const nn::LuongOutput out = layer.forward(h_t, keys);
            std::printf("  %-16s weights", course::name_of(kind));
            for (float w : out.weights.value().to_vector()) std::printf(" %.3f", w);
            if (local) std::printf("   (p_t = %.2f, D = 1)", out.position.item());
            std::printf("\n");
          }
        }

        // ------------------------------------------------------------------
        lesson.section(2, "the general score, and the attentional state");
        //   score_s = h_t^T W_a h_s = (W_a^T h_t) . h_s
        // The right side is cheaper: W_a^T h_t is one (B, Hid) product per step,
        // then a batched (B, 1, Hid)(B, Hid, S) product scores every key, where
        // W_a h_s would transform all S keys. Then
        //   a = masked_softmax(score)     c = a h_s: (B, 1, S)(B, S, Hid) -> (B, Hid)
        //   h~ = tanh(W_c [c; h_t])       W_c: (Hid, 2 Hid)
        // h~ is what the output layer reads, and what the next step's GRU reads
        // beside the next input symbol.
        Generator gen(lesson.seed() + 3);
        const int64_t B = 2, S = 7, Hid = 5;
        const Variable h_t(randn({B, Hid}, gen)), keys(randn({B, S, Hid}, gen));
        const Tensor padding = nn::key_padding_mask({7, 4}, S);
        {
          nn::LuongAttention general(
              {.hidden_size = Hid, .score = nn::LuongScore::general, .seed = lesson.seed() + 4});
          const nn::LuongOutput out = general.forward(h_t, keys, 0, padding);
          std::cout << "  h_t " << h_t.shape() << ", keys " << keys.shape() << " -> weights "
                    << out.weights.shape() << ", context " << out.context.shape() << ", h~ "
                    << out.attentional.shape() << "\n";
          course::compare_exercise(
              lesson, 1, "the general score's attentional state",
              [&] { return lesson07::luong_general(general, h_t, keys, padding).attentional.value(); },
              out.attentional.value());
        }

        // ------------------------------------------------------------------
        lesson.section(3, "the concat score");
        //   score_s = v_a^T tanh(W_a [h_t; h_s])
        // [h_t; h_s] pairs the one query with every key: expand h_t (B, 1, Hid)
        // to (B, S, Hid) (a view, no copy), concatenate on the last dim to
        // (B, S, 2 Hid), then W_a -> (B, S, Hid), tanh, v_a -> (B, S). It is the
        // only score here that costs O(S Hid^2) per step: a small network per key.
        {
          nn::LuongAttention concat(
              {.hidden_size = Hid, .score = nn::LuongScore::concat, .seed = lesson.seed() + 5});
          const Tensor weights = concat.forward(h_t, keys).weights.value();
          course::compare_exercise(
              lesson, 2, "the concat score",
              [&] {
                return softmax(lesson07::luong_concat_scores(concat, h_t, keys).value(), -1);  // as weights
              },
              weights);
        }

        // ------------------------------------------------------------------
        lesson.section(4, "local-p: a predicted window");
        //   p_t = S_b sigmoid(v_p^T tanh(W_p h_t))      (B,), in [0, S_b], S_b row b's length
        //   a_s = softmax_{|s - p_t| <= D}(score_s) * exp(-(s - p_t)^2 / (2 sigma^2)),  sigma = D / 2
        // The window's edges are a hard mask (no gradient), but p_t is a real
        // number and the Gaussian is smooth in it, so the loss can move p_t:
        // the model learns where to look. (Rows then sum to less than 1.)
        {
          nn::LuongAttention local({.hidden_size = Hid,
                                    .score = nn::LuongScore::dot,
                                    .window = nn::LuongWindow::local_p,
                                    .half_window = 2,
                                    .seed = lesson.seed() + 6});
          const nn::LuongOutput out = local.forward(h_t, keys, 0, padding);
          std::cout << "  lengths 7 and 4, D 2: p_t = " << out.position.value() << "\n  weights "
                    << out.weights.value() << "\n";
          const Tensor lengths = from_vector({7, 4}, {2});
          course::compare_exercise(
              lesson, 3, "local-p's position",
              [&] { return lesson07::local_p_window(local, h_t, lengths, S).position.value(); },
              out.position.value());
        }

        // ------------------------------------------------------------------
        lesson.section(5, "five models, one task");
        // Lesson 05's reversal, sizes and schedule, with each attention in turn
        // (time per step is wall time on this machine, for comparison only).
        std::vector<Result> results;
        for (AttentionKind kind : kKinds) {
          course::Seq2Seq model(course::reversal_model(setup, kind, lesson.seed() + 6));
          Result r;
          r.kind = kind;
          r.parameters = model.num_parameters();
          std::printf("\n");
          course::train_reversal(model, training, course::name_of(kind));
          Generator test_gen(lesson.seed() + 7);  // the same test sequences for every model
          for (int64_t L : setup.lengths)
            r.at.push_back(course::reversal_accuracy(model, L, setup.test_size, training.symbols, test_gen));

          // Section 6's heatmap, while the model is here: one sample of the longest length.
          const int64_t L = setup.lengths.back();
          Generator sample_gen(lesson.seed() + 9);
          const course::SequencePairs sample = course::reversal_batch(1, L, training.symbols, sample_gen);
          const course::Seq2Seq::Decoded decoded = model.greedy(sample.source, Tensor(), L);
          const Tensor weights = select(decoded.weights, 0, 0);  // (T, S)
          const std::vector<std::string> source_labels = course::symbol_labels(select(sample.source, 0, 0));
          const std::vector<std::string> output_labels = course::symbol_labels(select(decoded.ids, 0, 0));
          course::write_heatmap_svg(
              lesson.figure("weights_" + short_name(kind),
                            std::string(course::name_of(kind)) + ": where each output looks"),
              weights,
              {.title = std::string(course::name_of(kind)) + " attention on a reversal",
               .row_labels = output_labels,
               .col_labels = source_labels,
               .x_label = "source symbol",
               .y_label = "output symbol",
               .low = 0,
               .high = 1});
          std::printf("\n");
          course::print_heatmap(std::cout, weights,
                                {.title = std::string("  ") + course::name_of(kind) + ", length " +
                                          std::to_string(L) + " (rows: outputs, columns: source)",
                                 .row_labels = output_labels,
                                 .col_labels = source_labels});
          // Where the largest weights fall on fresh sequences, then the step's time.
          Generator peak_gen(lesson.seed() + 10);
          const course::SequencePairs test =
              course::reversal_batch(setup.test_size, L, training.symbols, peak_gen);
          r.peaks = course::attention_peaks(model.greedy(test.source, Tensor(), L).weights);
          r.ms_per_step = time_step(model, setup, lesson.pick(2, 5), lesson.seed() + 11);
          results.push_back(r);
        }

        std::printf("\n  token accuracy by length\n  %-16s", "");
        for (int64_t L : setup.lengths) std::printf(" %6lld", (long long)L);
        std::printf("\n");
        std::vector<course::Series> curves;
        std::vector<course::Bar> bars;
        for (const Result& r : results) {
          std::printf("  %-16s", course::name_of(r.kind));
          course::Series series;
          series.name = course::name_of(r.kind);
          for (size_t i = 0; i < setup.lengths.size(); ++i) {
            std::printf(" %5.1f%%", 100 * r.at[i].token);
            series.x.push_back(double(setup.lengths[i]));
            series.y.push_back(r.at[i].token);
          }
          std::printf("\n");
          curves.push_back(series);
          bars.push_back({.label = short_name(r.kind), .value = r.ms_per_step});
        }
        const long long longest = (long long)setup.lengths.back();
        std::printf(
            "\n  at length %lld     sequences   largest weight on   largest weight on   parameters   "
            "ms/step\n"
            "  %-16s     right    S-1-t (writes)    S-t (just wrote)\n",
            longest, "");
        for (const Result& r : results)
          std::printf("  %-16s %9.1f%% %17.1f%% %19.1f%% %12lld %9.1f\n", course::name_of(r.kind),
                      100 * r.at.back().sequence, 100 * r.peaks.writes, 100 * r.peaks.just_wrote,
                      (long long)r.parameters, r.ms_per_step);
        course::write_line_plot_svg(
            lesson.figure("accuracy_by_length",
                          "the content scores stay flat; location, blind to content, falls like lesson 05"),
            curves,
            {.title = "reversal: five Luong attentions",
             .x_label = "sequence length",
             .y_label = "token accuracy"});
        course::BarChartOptions bar_options;
        bar_options.title = "training time per step (batch " + std::to_string(training.batch) + ")";
        bar_options.y_label = "ms per step";
        course::write_bar_chart_svg(
            lesson.figure("ms_per_step", "one training step's time, the fastest of a few runs"), bars,
            bar_options);

        // ------------------------------------------------------------------
        lesson.section(6, "what the numbers say");
        // The heatmaps above are section 5's samples, at the longest length.
        // - The content scores (dot, general, concat) find their source symbol
        //   by what it is, wherever it sits, and keep their accuracy as the
        //   sequences grow.
        // - They do not all look at the same place. Lesson 06 found two
        //   lookups that work for reversal: the symbol to write (S-1-t, the
        //   anti-diagonal) or the one just written (S-t, one column to the
        //   right, whose forward-GRU state still holds the next symbol). The
        //   table's two "largest weight" columns say which each model chose;
        //   with this seed the multiplicative scores (dot, general) take the
        //   first and the additive concat, like lesson 06's Bahdanau, the
        //   second (another seed may differ: nothing in the loss prefers one).
        // - location must work out S-1-t from h_t alone, with no look at the
        //   keys, and h_t knows the length only through what the encoder's
        //   last state passed on: lesson 05's bottleneck again, now for where
        //   to look, and its accuracy falls with length the same way.
        // - local-p predicts a position as well, but then compares contents
        //   inside its window, so a near miss is forgiven.
        // - Time: concat runs a small network per key, O(S Hid^2) a step
        //   against dot's O(S Hid); at these sizes the fixed costs of a step
        //   (the GRU, the output layer, the backward) hide part of it.
        const Result* best = &results[0];
        const Result* worst = &results[0];
        const Result* slowest = &results[0];
        for (const Result& r : results) {
          if (r.at.back().token > best->at.back().token) best = &r;
          if (r.at.back().token < worst->at.back().token) worst = &r;
          if (r.ms_per_step > slowest->ms_per_step) slowest = &r;
        }
        std::printf(
            "  at length %lld: best %s (%.1f%% of tokens), worst %s (%.1f%%); slowest per step: %s (%.1f "
            "ms)\n",
            (long long)setup.lengths.back(), course::name_of(best->kind), 100 * best->at.back().token,
            course::name_of(worst->kind), 100 * worst->at.back().token, course::name_of(slowest->kind),
            slowest->ms_per_step);
        // Seeded, so every run gets these numbers; fail loudly if the content
        // scores stop beating the one that cannot look at content.
        double content = 1, location = 0;
        for (const Result& r : results) {
          const double a = r.at.back().token;
          if (r.kind == AttentionKind::luong_location)
            location = a;
          else if (r.kind != AttentionKind::luong_local_p)
            content = std::min(content, a);
        }
        HEED_CHECK(content >= lesson.pick(0.75, 0.95) && location <= content - 0.15,
                   "expected dot, general and concat >= ", 100 * lesson.pick(0.75, 0.95),
                   "% of tokens at length ", setup.lengths.back(), " and location 15 points below, got ",
                   100 * content, "% and ", 100 * location, "%");
        if (lesson.quick())
          std::printf(
              "  (--quick: %lld steps per model, Hid %lld, lengths up to %lld; the full run trains\n"
              "   1500 steps, Hid 64, lengths up to 16, where the gaps are clearer)\n",
              (long long)training.steps, (long long)setup.hidden, (long long)training.max_length);
      });
}
