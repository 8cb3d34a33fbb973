// The reversal task of lessons 05-07: a Seq2Seq (lessons/common/seq2seq.h)
// learns to write a sequence of symbols backwards, and is measured length by
// length.
//
// Ids: symbol k is id kFirstSymbol + k; the ids below it are every course
// vocabulary's pad, bos, eos and unk (lessons/common/vocab.h), so the decoder
// starts from Vocab::bos as lesson 08's does. A model reads and writes
// kFirstSymbol + symbols ids.
//
// Training draws one length per step, uniformly in [min_length, max_length],
// and a batch of that length: one model sees every length (no padding needed,
// a batch is one length), so accuracy by length compares the same weights on
// longer and longer inputs. Adam with clipped gradients, the learning rate
// annealed by half a cosine to lr / 30: the late, small steps are what take a
// model from 97% to 100%.
//
// Decoding is greedy for exactly `length` steps: the model is told how much to
// write (no eos), so accuracy measures what it writes, not when it stops.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lessons/common/seq2seq.h"
#include "lessons/common/tasks.h"
#include "lessons/common/vocab.h"

namespace heed::course {

constexpr int64_t kFirstSymbol = Vocab::unk + 1;

// `batch` random sequences of `length` symbols in [0, symbols) and their
// reverses, as ids: source and target (B, length).
SequencePairs reversal_batch(int64_t batch, int64_t length, int64_t symbols, Generator& gen);

struct ReversalOptions {
  int64_t symbols = 10;
  int64_t min_length = 4, max_length = 16;
  int64_t batch = 64;
  int64_t steps = 3000;
  double lr = 3e-3;     // Adam's first learning rate, annealed to lr / 30
  double clip = 1.0;    // the gradients' global norm is clipped to this
  int64_t reports = 5;  // progress lines (epochs of the progress bar)
  uint64_t seed = 0;    // the training batches'
};

struct TrainingRun {
  double ms_per_step = 0;  // wall time of the training steps alone (no evaluation)
  double final_loss = 0;   // mean loss over the last report's steps
};

// Trains `model` on reversal as above, showing a progress bar labelled `label`
// whose epoch notes give the token accuracy at max_length.
TrainingRun train_reversal(Seq2Seq& model, const ReversalOptions& options, const std::string& label);

// Exact-match accuracy of predicted ids against target ids, both (B, T), over
// the positions padding (B, T) leaves visible (non-zero = padding; undefined:
// none): `token` is the fraction of visible positions right, `sequence` the
// fraction of rows with every visible position right (a row with none counts
// as right). Lesson 05's exercise 3 writes it.
struct Accuracy {
  double token = 0, sequence = 0;
};
Accuracy exact_match(const Tensor& predicted, const Tensor& target, const Tensor& padding = Tensor());

// Greedy decoding of n fresh sequences of `length`, scored by exact_match.
Accuracy reversal_accuracy(Seq2Seq& model, int64_t length, int64_t n, int64_t symbols, Generator& gen);

// The sizes lessons 05-07 share, so their curves compare. Quick: Hid 32,
// lengths 4..12, 1000 steps of 32 (a few seconds); full: Hid 64, lengths
// 4..16, 3000 steps of 64 (lesson 05's curve is then the one lesson 06 beats).
struct ReversalSetup {
  ReversalOptions training;
  int64_t embed = 32, hidden = 64;
  std::vector<int64_t> lengths;  // where accuracy is measured
  int64_t test_size = 512;       // sequences per measured length
};
ReversalSetup reversal_setup(bool quick, uint64_t seed);
// A model for the setup: vocabularies, sizes, bos, max_source_length.
Seq2SeqOptions reversal_model(const ReversalSetup& setup, AttentionKind attention, uint64_t seed);

// Where each output step's largest attention weight falls, on a reversal
// (T = S): `writes` is the share of steps on the source symbol the step
// writes, S-1-t; `just_wrote` the share of steps t >= 1 on the one written the
// step before, S-t (one column to the right). weights: (B, T, S).
struct AttentionPeaks {
  double writes = 0, just_wrote = 0;
};
AttentionPeaks attention_peaks(const Tensor& weights);

// One sample's tokens as strings ("3", "7", ...) for heatmap labels.
std::vector<std::string> symbol_labels(const Tensor& ids);

}  // namespace heed::course
