// Toy tasks made in code from a seed, never downloaded.
//
//  - copy, reverse and sort of symbol sequences (the seq2seq lessons);
//  - dates written in words to ISO dates ("the third of march, two thousand
//    and twenty-one" -> "2021-03-03"), a character-level translation;
//  - a classification task in which a short local cue among distractors
//    decides the label (focus attention, lesson 12).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lessons/common/vocab.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

namespace heed::course {

enum class SequenceTask { copy, reverse, sort };
const char* name_of(SequenceTask task);

// Sequences of `length` symbols drawn uniformly from 0..symbols-1, and their
// targets: the copy, the reverse or the sorted sequence.
struct SequencePairs {
  Tensor source, target;  // (B, length) each, float ids
};
SequencePairs sequence_task(SequenceTask task, int64_t batch, int64_t length, int64_t symbols,
                            Generator& gen);

struct DatePair {
  std::string words;  // "the third of march, two thousand and twenty-one"
  std::string iso;    // "2021-03-03"
};
// n dates between 1900-01-01 and 2099-12-31, written in a few ways each.
std::vector<DatePair> make_dates(int64_t n, Generator& gen);

// Sequences of 8..width distractor tokens (ids 3..vocab-1), right-padded with
// 0, holding one cue: the adjacent pair "1 2" (label 1) or "2 1" (label 0).
// Only the cue's order decides the label, so a model must find it.
struct CueTask {
  Tensor ids;      // (B, width) float ids
  Tensor padding;  // (B, width) 1 at padding
  Tensor labels;   // (B,) 0 or 1
};
CueTask local_cue_task(int64_t batch, Generator& gen, int64_t vocab = 20, int64_t width = 16);

}  // namespace heed::course
