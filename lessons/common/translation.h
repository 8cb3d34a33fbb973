// A toy English -> French corpus, generated from a phrase grammar: determiners,
// nouns with gender and number, adjectives (some follow the noun in French),
// verbs that agree with their subject, negation (ne ... pas). The grammar knows
// which English word each French word translates, so attention's alignments
// can be scored against the truth.
//
//   the small cat does not see the red car
//   le petit chat ne voit pas la voiture rouge
#pragma once

#include <cstdint>
#include <vector>

#include "lessons/common/vocab.h"

namespace heed::course {

struct SentencePair {
  Tokens english, french;
  // alignment[j]: the index in `english` of the word French word j translates,
  // or -1 when it translates none alone. The convention: "ne" is the only
  // French word at -1; "pas" translates "not"; the verb translates the English
  // verb ("voit" <- "see" in "does not see"), so "does" and "do" are the only
  // English words no French word translates. Both sides have the same length.
  std::vector<int> alignment;
};

struct TranslationCorpus {
  std::vector<SentencePair> train, validation, test;  // no sentence is in two splits
};

struct TranslationCorpusOptions {
  int64_t train = 4000, validation = 200, test = 200;
  uint64_t seed = 1;  // the same seed, the same corpus and splits
};
TranslationCorpus make_translation_corpus(const TranslationCorpusOptions& options = {});

// The English words the grammar knows (84: at least 60), for the lesson's tables.
// Each pair is 3 to 12 words long, and the same English always gets the same French.
std::vector<std::string> english_words();

}  // namespace heed::course
