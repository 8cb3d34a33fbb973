#include "lessons/common/reversal.h"

#include <chrono>
#include <cstdio>

#include "lessons/common/progress.h"
#include "nn/nn.h"

namespace heed::course {

SequencePairs reversal_batch(int64_t batch, int64_t length, int64_t symbols, Generator& gen) {
  SequencePairs pairs = sequence_task(SequenceTask::reverse, batch, length, symbols, gen);
  return {pairs.source + float(kFirstSymbol), pairs.target + float(kFirstSymbol)};
}

TrainingRun train_reversal(Seq2Seq& model, const ReversalOptions& options, const std::string& label) {
  HEED_CHECK(options.min_length >= 1 && options.max_length >= options.min_length && options.steps >= 1 &&
                 options.reports >= 1,
             "train_reversal: need 1 <= min_length <= max_length and steps, reports >= 1, got lengths ",
             options.min_length, "..", options.max_length, ", steps ", options.steps, ", reports ",
             options.reports);
  nn::Adam adam(model.named_parameters(), {.lr = options.lr});
  const nn::Schedule schedule =
      nn::CosineAnnealing{.base_lr = options.lr, .t_max = options.steps, .eta_min = options.lr / 30};
  nn::CrossEntropyLoss criterion;
  Generator gen(options.seed), validation_gen(options.seed + 1000003);
  const int64_t span = options.max_length - options.min_length + 1;
  const int64_t per_report = (options.steps + options.reports - 1) / options.reports;

  Progress progress({.label = label, .epochs = options.reports, .steps_per_epoch = per_report});
  TrainingRun run;
  double seconds = 0, loss_sum = 0;
  int64_t loss_count = 0;
  for (int64_t step = 0; step < options.steps; ++step) {
    const auto start = std::chrono::steady_clock::now();
    const int64_t length = options.min_length + gen.randint(span);
    const SequencePairs batch = reversal_batch(options.batch, length, options.symbols, gen);
    nn::apply_schedule(adam, schedule);
    adam.zero_grad();
    // logits (B, T, V) against targets (B, T): every position counts.
    Variable loss = criterion(model.forward(batch.source, Tensor(), batch.target).logits, batch.target);
    loss.backward();
    nn::clip_grad_norm(model.parameters(), options.clip);
    adam.step();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    const double value = loss.item();
    progress.step(value, options.batch * length);
    loss_sum += value;
    ++loss_count;
    if ((step + 1) % per_report == 0 || step + 1 == options.steps) {
      run.final_loss = loss_sum / double(loss_count);
      loss_sum = 0;
      loss_count = 0;
      Generator check_gen = validation_gen;  // the same 256 sequences at every report
      const Accuracy a = reversal_accuracy(model, options.max_length, 256, options.symbols, check_gen);
      char note[96];
      std::snprintf(note, sizeof note, "token accuracy at length %lld: %.1f%%", (long long)options.max_length,
                    100 * a.token);
      progress.end_epoch(note);
    }
  }
  progress.finish();
  run.ms_per_step = 1000 * seconds / double(options.steps);
  return run;
}

Accuracy exact_match(const Tensor& predicted, const Tensor& target, const Tensor& padding) {
  HEED_CHECK(predicted.dim() == 2 && predicted.shape() == target.shape() &&
                 (!padding.defined() || padding.shape() == target.shape()),
             "exact_match: expected predicted, target (and padding) of one (B, T) shape, got ",
             predicted.shape(), ", ", target.shape(), padding.defined() ? ", " : "",
             padding.defined() ? padding.shape() : Shape{});
  const int64_t B = target.size(0);
  const Tensor visible = padding.defined() ? eq(padding, scalar(0.0f)) : ones(target.shape());
  const Tensor right = mul(eq(predicted, target), visible);  // (B, T): 1 where visible and right
  const Tensor visible_per_row = sum(visible, {1}), right_per_row = sum(right, {1});  // (B,)
  const double visible_total = sum(visible).item();
  Accuracy a;
  a.token = visible_total == 0 ? 1.0 : sum(right).item() / visible_total;
  a.sequence = B == 0 ? 1.0 : sum(eq(right_per_row, visible_per_row)).item() / double(B);
  return a;
}

Accuracy reversal_accuracy(Seq2Seq& model, int64_t length, int64_t n, int64_t symbols, Generator& gen) {
  const SequencePairs pairs = reversal_batch(n, length, symbols, gen);
  return exact_match(model.greedy(pairs.source, Tensor(), length).ids, pairs.target);
}

AttentionPeaks attention_peaks(const Tensor& weights) {
  HEED_CHECK(weights.dim() == 3 && weights.size(1) == weights.size(2),
             "attention_peaks: expected reversal weights (B, T, S) with T = S, got ", weights.shape());
  const int64_t B = weights.size(0), T = weights.size(1), S = weights.size(2);
  const Tensor argmaxes = contiguous(argmax(weights, -1));  // (B, T)
  int64_t writes = 0, just_wrote = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const int64_t at = int64_t(argmaxes.data()[b * T + t]);
      writes += at == S - 1 - t;
      just_wrote += t >= 1 && at == S - t;
    }
  return {B * T == 0 ? 0.0 : double(writes) / double(B * T),
          B * (T - 1) <= 0 ? 0.0 : double(just_wrote) / double(B * (T - 1))};
}

ReversalSetup reversal_setup(bool quick, uint64_t seed) {
  ReversalSetup setup;
  if (quick) {
    setup.training = {
        .min_length = 4, .max_length = 12, .batch = 32, .steps = 1000, .lr = 1e-2, .seed = seed};
    setup.embed = 16;
    setup.hidden = 32;
    setup.lengths = {4, 6, 8, 10, 12};
    setup.test_size = 256;
  } else {
    setup.training = {
        .min_length = 4, .max_length = 16, .batch = 64, .steps = 3000, .lr = 3e-3, .seed = seed};
    setup.lengths = {4, 6, 8, 10, 12, 14, 16};
  }
  return setup;
}

Seq2SeqOptions reversal_model(const ReversalSetup& setup, AttentionKind attention, uint64_t seed) {
  const int64_t V = kFirstSymbol + setup.training.symbols;
  return {.source_vocab = V,
          .target_vocab = V,
          .embed = setup.embed,
          .hidden = setup.hidden,
          .attention = attention,
          .bos = Vocab::bos,
          .max_source_length = setup.training.max_length,
          .seed = seed};
}

std::vector<std::string> symbol_labels(const Tensor& ids) {
  std::vector<std::string> labels;
  for (float id : contiguous(ids).to_vector()) labels.push_back(std::to_string(int64_t(id) - kFirstSymbol));
  return labels;
}

}  // namespace heed::course
