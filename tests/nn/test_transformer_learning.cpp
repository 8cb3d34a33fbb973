// The Transformer learns copy, reverse and sort of length-10 sequences over 10
// symbols to 100% exact match on held-out sequences, decoded greedily through
// its key/value caches (make_decoder and greedy_search).
//
// Each run is seeded and fixed: Adam for a set number of steps with a cosine
// decay of the learning rate to 0, batches of 64 from one generator, then
// exact match on 1000 sequences from another (10^10 sequences: the two share
// almost none).
// Skipped under the sanitizers, whose instrumented runs take minutes.
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "nn/generate.h"
#include "nn/loss.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "nn/transformer.h"
#include "tests/nn/training_tasks.h"
#include "tests/testing.h"

using namespace heed;

namespace {

constexpr int64_t kSymbols = 10, kLength = 10;
constexpr int64_t kStart = kSymbols;  // the decoder's start symbol, one past the data symbols

enum class Task { copy, reverse, sort };

// (B, 10) random sequences and what the task makes of them.
tasks::Pairs task_pairs(Task task, int64_t batch, Generator& gen) {
  tasks::Pairs p = tasks::reversed_pairs(batch, kLength, kSymbols, gen);
  if (task == Task::copy) p.target = clone(p.source);
  if (task == Task::sort) {
    p.target = clone(p.source);
    for (int64_t b = 0; b < batch; ++b) {
      float* row = p.target.data() + b * kLength;
      std::sort(row, row + kLength);
    }
  }
  return p;
}

// target (B, T) -> the decoder's input (B, T): the start symbol, y_0 .. y_{T-2}.
Tensor shifted(const Tensor& target) {
  Tensor start = full({target.size(0), 1}, float(kStart));
  return cat(std::vector<Tensor>{start, narrow(target, 1, 0, kLength - 1)}, 1);
}

// Greedy decoding through the caches: (B, 10) -> (B, 10).
Tensor greedy(nn::Seq2SeqTransformer& model, const Tensor& source) {
  std::unique_ptr<nn::Decoder> decoder = model.make_decoder(source);
  return nn::to_tensor(nn::greedy_search(*decoder, source.size(0),
                                         {.max_new_tokens = kLength, .decoder_start_token_id = kStart}),
                       -1.0f);
}

// The fraction of sequences decoded exactly right.
double exact_match(nn::Seq2SeqTransformer& model, const tasks::Pairs& data) {
  Tensor right = eq(greedy(model, data.source), data.target);  // (B, T)
  return mean(eq(sum(right, {1}), scalar(float(kLength)))).item();
}

// Trains a fresh model on `task` for `steps` steps -> exact match on 1000 held-out sequences.
double learn(Task task, uint64_t seed, int64_t steps) {
  nn::Seq2SeqTransformer model({.src_vocab = kSymbols,
                                .tgt_vocab = kSymbols + 1,
                                .d_model = 32,
                                .nhead = 2,
                                .num_encoder_layers = 1,
                                .num_decoder_layers = 1,
                                .dim_feedforward = 64,
                                .dropout = 0.0f,
                                .norm_first = true,
                                .max_length = kLength,
                                .seed = seed});
  nn::Adam adam(model.named_parameters(), {.lr = 3e-3});
  // Decayed to 0 by the last step: Adam's noise at a constant rate leaves a few
  // sequences in a thousand wrong, and exact match counts every one.
  nn::Schedule schedule = nn::CosineAnnealing{.base_lr = 3e-3, .t_max = steps};
  nn::CrossEntropyLoss criterion;
  Generator train_gen(seed + 1), test_gen(seed + 2);
  tasks::Pairs test = task_pairs(task, 1000, test_gen);
  for (int64_t step = 0; step < steps; ++step) {
    tasks::Pairs batch = task_pairs(task, 64, train_gen);
    nn::apply_schedule(adam, schedule);
    adam.zero_grad();
    criterion(model.forward(batch.source, shifted(batch.target)), batch.target).backward();
    nn::clip_grad_norm(model.parameters(), 1.0);
    adam.step();
  }
  model.eval();
  return exact_match(model, test);
}

}  // namespace

TEST_CASE("the Transformer learns to copy length-10 sequences: 100% exact match on held-out ones" *
          doctest::skip(testing::kSanitized)) {
  CHECK(learn(Task::copy, 100, 400) == 1.0);
}

TEST_CASE("the Transformer learns to reverse length-10 sequences: 100% exact match on held-out ones" *
          doctest::skip(testing::kSanitized)) {
  CHECK(learn(Task::reverse, 200, 400) == 1.0);
}

TEST_CASE("the Transformer learns to sort length-10 sequences: 100% exact match on held-out ones" *
          doctest::skip(testing::kSanitized)) {
  CHECK(learn(Task::sort, 300, 2000) == 1.0);
}
