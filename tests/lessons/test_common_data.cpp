// The course's toy data (lessons/common/vocab.h, tasks.h, translation.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "lessons/common/tasks.h"
#include "lessons/common/translation.h"
#include "lessons/common/vocab.h"
#include "tensor/error.h"

using namespace heed;
using namespace heed::course;

// ------------------------------------------------------------------ vocab
TEST_CASE("vocab: split and join are inverse") {
  CHECK(split_words("  the cat  sleeps ") == Tokens{"the", "cat", "sleeps"});
  CHECK(join(split_words("the cat sleeps")) == "the cat sleeps");
  CHECK(split_chars("21-3") == Tokens{"2", "1", "-", "3"});
  CHECK(join(split_chars("2021-03-04"), "") == "2021-03-04");
  CHECK(split_words("").empty());
}

TEST_CASE("vocab: reserved ids come first, words follow in first-seen order") {
  const Vocab vocab = Vocab::build({{"the", "cat"}, {"the", "dog"}});
  CHECK(vocab.size() == 7);
  CHECK(vocab.token(Vocab::pad) == "<pad>");
  CHECK(vocab.token(Vocab::bos) == "<bos>");
  CHECK(vocab.token(Vocab::eos) == "<eos>");
  CHECK(vocab.token(Vocab::unk) == "<unk>");
  CHECK(vocab.id("the") == 4);
  CHECK(vocab.id("cat") == 5);
  CHECK(vocab.id("dog") == 6);
  CHECK_THROWS_AS(vocab.token(7), Error);
  CHECK_THROWS_AS(vocab.token(-1), Error);
}

TEST_CASE("vocab: encode then decode gives the tokens back") {
  Vocab vocab = Vocab::build({{"le", "chat", "dort"}});
  const Tokens sentence = {"le", "chat", "dort"};
  const std::vector<int64_t> ids = vocab.encode(sentence, true, true);
  CHECK(ids.front() == Vocab::bos);
  CHECK(ids.back() == Vocab::eos);
  CHECK(ids.size() == 5);
  CHECK(vocab.decode(ids) == sentence);
  CHECK(vocab.encode(sentence) == std::vector<int64_t>{4, 5, 6});
  CHECK(vocab.add("chat") == 5);  // an existing token keeps its id
  CHECK(vocab.add("chien") == 7);
}

TEST_CASE("vocab: an unknown token encodes as unk, and decode stops at eos") {
  const Vocab vocab = Vocab::build({{"a", "b"}});
  CHECK(vocab.encode({"a", "zebra", "b"}) == std::vector<int64_t>{4, Vocab::unk, 5});
  CHECK(vocab.decode({Vocab::bos, 4, Vocab::unk, Vocab::eos, 5}) == Tokens{"a", "<unk>"});
  CHECK(vocab.decode({4, Vocab::pad, Vocab::pad}) == Tokens{"a"});
}

TEST_CASE("vocab: make_batch pads on the right and marks the padding") {
  const Batch batch = make_batch({{5, 6, 7}, {8}, {9, 10}});
  CHECK(batch.ids.shape() == Shape{3, 3});
  CHECK(batch.padding.shape() == Shape{3, 3});
  CHECK(batch.lengths == std::vector<int64_t>{3, 1, 2});
  CHECK(batch.ids.to_vector() == std::vector<float>{5, 6, 7, 8, 0, 0, 9, 10, 0});
  CHECK(batch.padding.to_vector() == std::vector<float>{0, 0, 0, 0, 1, 1, 0, 0, 1});
  CHECK(row_ids(batch.ids, 0) == std::vector<int64_t>{5, 6, 7});
  CHECK(row_ids(batch.ids, 1) == std::vector<int64_t>{8});
  CHECK(row_ids(batch.ids, 2) == std::vector<int64_t>{9, 10});
  CHECK_THROWS_AS(row_ids(batch.ids, 3), Error);
  CHECK_THROWS_AS(make_batch({}), Error);
}

// ------------------------------------------------------------------ tasks
namespace {
std::vector<int64_t> row(const Tensor& t, int64_t b) {
  std::vector<int64_t> r;
  for (int64_t i = 0; i < t.size(1); ++i) r.push_back(int64_t(t.at({b, i})));
  return r;
}
}  // namespace

TEST_CASE("tasks: copy, reverse and sort give the right targets") {
  for (SequenceTask task : {SequenceTask::copy, SequenceTask::reverse, SequenceTask::sort}) {
    CAPTURE(name_of(task));
    Generator gen(7);
    const SequencePairs pairs = sequence_task(task, 16, 9, 5, gen);
    REQUIRE(pairs.source.shape() == Shape{16, 9});
    REQUIRE(pairs.target.shape() == Shape{16, 9});
    std::set<int64_t> symbols;
    for (int64_t b = 0; b < 16; ++b) {
      std::vector<int64_t> expected = row(pairs.source, b);
      for (int64_t s : expected) symbols.insert(s);
      if (task == SequenceTask::reverse) std::reverse(expected.begin(), expected.end());
      if (task == SequenceTask::sort) std::sort(expected.begin(), expected.end());
      CHECK(row(pairs.target, b) == expected);
    }
    CHECK(*symbols.begin() == 0);
    CHECK(*symbols.rbegin() == 4);
  }
}

TEST_CASE("tasks: the same seed gives the same sequences") {
  Generator a(3), b(3);
  const auto x = sequence_task(SequenceTask::sort, 4, 6, 10, a);
  const auto y = sequence_task(SequenceTask::sort, 4, 6, 10, b);
  CHECK(x.source.to_vector() == y.source.to_vector());
}

namespace {
// An independent reader of make_dates' words: month, ordinal day, year.
int number_word(const std::string& w) {
  static const std::map<std::string, int> words = {
      {"zero", 0},     {"one", 1},      {"two", 2},        {"three", 3},     {"four", 4},
      {"five", 5},     {"six", 6},      {"seven", 7},      {"eight", 8},     {"nine", 9},
      {"ten", 10},     {"eleven", 11},  {"twelve", 12},    {"thirteen", 13}, {"fourteen", 14},
      {"fifteen", 15}, {"sixteen", 16}, {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19},
      {"twenty", 20},  {"thirty", 30},  {"forty", 40},     {"fifty", 50},    {"sixty", 60},
      {"seventy", 70}, {"eighty", 80},  {"ninety", 90}};
  auto it = words.find(w);
  return it == words.end() ? -1 : it->second;
}
int ordinal_word(const std::string& w) {
  static const std::map<std::string, int> words = {
      {"first", 1},      {"second", 2},       {"third", 3},       {"fourth", 4},      {"fifth", 5},
      {"sixth", 6},      {"seventh", 7},      {"eighth", 8},      {"ninth", 9},       {"tenth", 10},
      {"eleventh", 11},  {"twelfth", 12},     {"thirteenth", 13}, {"fourteenth", 14}, {"fifteenth", 15},
      {"sixteenth", 16}, {"seventeenth", 17}, {"eighteenth", 18}, {"nineteenth", 19}, {"twentieth", 20},
      {"thirtieth", 30}};
  const size_t dash = w.find('-');
  if (dash != std::string::npos) {
    const int tens = number_word(w.substr(0, dash)), unit = ordinal_word(w.substr(dash + 1));
    return tens < 20 || unit < 1 || unit > 9 ? -1 : tens + unit;
  }
  auto it = words.find(w);
  return it == words.end() ? -1 : it->second;
}
// "twenty-one" -> 21, "eighty" -> 80.
int cardinal_words(const Tokens& w) {
  int total = 0;
  for (const std::string& word : w) {
    const size_t dash = word.find('-');
    if (dash == std::string::npos) {
      const int n = number_word(word);
      if (n < 0) return -1;
      total += n;
    } else {
      total += number_word(word.substr(0, dash)) + number_word(word.substr(dash + 1));
    }
  }
  return total;
}
// Year words -> the year, or -1.
int year_of(Tokens w) {
  if (w.size() >= 2 && w[0] == "two" && w[1] == "thousand")
    return 2000 + cardinal_words({w.begin() + 2, w.end()});
  if (w.empty() || (w[0] != "nineteen" && w[0] != "twenty")) return -1;
  const int century = w[0] == "nineteen" ? 1900 : 2000;
  w.erase(w.begin());
  if (w == Tokens{"hundred"}) return century;
  if (!w.empty() && w[0] == "oh") {
    const int unit = cardinal_words({w.begin() + 1, w.end()});
    return unit >= 1 && unit <= 9 ? century + unit : -1;
  }
  const int rest = cardinal_words(w);
  return rest >= 10 ? century + rest : -1;
}
std::string parse_date(const std::string& words) {
  static const Tokens months = {"january", "february", "march",     "april",   "may",      "june",
                                "july",    "august",   "september", "october", "november", "december"};
  std::string text = words;
  std::replace(text.begin(), text.end(), ',', ' ');
  int day = -1, month = -1;
  Tokens year;
  for (const std::string& w : split_words(text)) {
    if (w == "the" || w == "of" || w == "and") continue;
    auto m = std::find(months.begin(), months.end(), w);
    if (m != months.end()) {
      month = int(m - months.begin()) + 1;
    } else if (ordinal_word(w) > 0) {
      day = ordinal_word(w);
    } else {
      year.push_back(w);
    }
  }
  char iso[32];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", year_of(year), month, day);
  return iso;
}
}  // namespace

TEST_CASE("tasks: every date's words read back as its ISO date") {
  Generator gen(11);
  const std::vector<DatePair> dates = make_dates(3000, gen);
  REQUIRE(dates.size() == 3000);
  std::set<std::string> years, formats;
  bool leap_day = false;
  for (const DatePair& d : dates) {
    CAPTURE(d.words);
    CHECK(parse_date(d.words) == d.iso);
    CHECK(d.iso.size() == 10);
    CHECK(d.iso >= "1900-01-01");
    CHECK(d.iso <= "2099-12-31");
    years.insert(d.iso.substr(0, 2));
    leap_day |= d.iso.substr(5) == "02-29";
    formats.insert(d.words.substr(0, 4) == "the "               ? "the"
                   : d.words.find(" the ") != std::string::npos ? "month the"
                   : d.words.find(',') != std::string::npos     ? "month day,"
                                                                : "day month");
  }
  CHECK(years == std::set<std::string>{"19", "20"});
  CHECK(formats.size() == 4);
  CHECK(leap_day);
  // The header's example is one of the ways a date is written.
  CHECK(parse_date("the third of march, two thousand and twenty-one") == "2021-03-03");
}

TEST_CASE("tasks: the local cue decides the label") {
  Generator gen(5);
  const CueTask task = local_cue_task(200, gen, 20, 16);
  REQUIRE(task.ids.shape() == Shape{200, 16});
  REQUIRE(task.padding.shape() == Shape{200, 16});
  REQUIRE(task.labels.shape() == Shape{200});
  int ones = 0;
  for (int64_t b = 0; b < 200; ++b) {
    const std::vector<int64_t> ids = row(task.ids, b);
    int64_t length = 0, cue = -1, cue_tokens = 0;
    for (int64_t t = 0; t < 16; ++t) {
      const bool pad = task.padding.at({b, t}) == 1.0f;
      CHECK(pad == (ids[size_t(t)] == 0));
      if (!pad) length = t + 1;
      if (ids[size_t(t)] == 1 || ids[size_t(t)] == 2) ++cue_tokens;
      if (t + 1 < 16 && ids[size_t(t)] + ids[size_t(t + 1)] == 3 && ids[size_t(t)] != 0 &&
          ids[size_t(t + 1)] != 0)
        cue = ids[size_t(t)] == 1 ? 1 : 0;
      CHECK(ids[size_t(t)] < 20);
    }
    CHECK(length >= 8);
    CHECK(cue_tokens == 2);
    CHECK(cue == int64_t(task.labels.at({b})));
    ones += int(task.labels.at({b}));
  }
  CHECK(ones > 70);
  CHECK(ones < 130);
}

// ------------------------------------------------------------------ translation
namespace {
const TranslationCorpus& corpus() {
  static const TranslationCorpus c =
      make_translation_corpus({.train = 4000, .validation = 200, .test = 200, .seed = 1});
  return c;
}
std::vector<const SentencePair*> all_pairs() {
  std::vector<const SentencePair*> pairs;
  for (const auto* split : {&corpus().train, &corpus().validation, &corpus().test})
    for (const SentencePair& p : *split) pairs.push_back(&p);
  return pairs;
}
// The French word that translates English word i ("" for none).
std::string french_of(const SentencePair& p, size_t i) {
  for (size_t j = 0; j < p.french.size(); ++j)
    if (p.alignment[j] == int(i)) return p.french[j];
  return "";
}
}  // namespace

TEST_CASE("translation: the corpus has the sizes asked for") {
  CHECK(corpus().train.size() == 4000);
  CHECK(corpus().validation.size() == 200);
  CHECK(corpus().test.size() == 200);
  const auto small = make_translation_corpus({.train = 10, .validation = 3, .test = 0});
  CHECK(small.train.size() == 10);
  CHECK(small.validation.size() == 3);
  CHECK(small.test.empty());
}

TEST_CASE("translation: the same seed gives the same corpus, another seed another") {
  const auto again = make_translation_corpus({.train = 4000, .validation = 200, .test = 200, .seed = 1});
  const auto other = make_translation_corpus({.train = 4000, .validation = 200, .test = 200, .seed = 2});
  bool same = true, differs = false;
  for (size_t i = 0; i < 4000; ++i) {
    same &= again.train[i].english == corpus().train[i].english &&
            again.train[i].french == corpus().train[i].french &&
            again.train[i].alignment == corpus().train[i].alignment;
    differs |= other.train[i].english != corpus().train[i].english;
  }
  for (size_t i = 0; i < 200; ++i) same &= again.test[i].english == corpus().test[i].english;
  CHECK(same);
  CHECK(differs);
}

TEST_CASE("translation: no English sentence is in two splits") {
  std::set<Tokens> seen;
  for (const SentencePair* p : all_pairs()) CHECK(seen.insert(p->english).second);
}

TEST_CASE("translation: the same English always gets the same French") {
  // Across seeds too: the French is a function of the English alone.
  std::map<Tokens, Tokens> french;
  for (uint64_t seed : {1, 2, 3})
    for (const SentencePair& p :
         make_translation_corpus({.train = 3000, .validation = 0, .test = 0, .seed = seed}).train) {
      auto [it, inserted] = french.try_emplace(p.english, p.french);
      if (!inserted) CHECK(it->second == p.french);
    }
}

TEST_CASE("translation: sentences are 3 to 12 words over at least 60 English words") {
  const std::vector<std::string> words = english_words();
  const std::set<std::string> known(words.begin(), words.end());
  CHECK(known.size() == words.size());
  CHECK(known.size() >= 60);
  CHECK(known.size() <= 90);
  std::set<std::string> used;
  size_t shortest = 99, longest = 0;
  for (const SentencePair* p : all_pairs()) {
    shortest = std::min(shortest, p->english.size());
    longest = std::max(longest, p->english.size());
    CHECK(p->french.size() >= 3);
    CHECK(p->french.size() <= 12);
    for (const std::string& w : p->english) {
      CHECK(known.count(w) == 1);
      used.insert(w);
    }
  }
  CHECK(shortest == 3);
  CHECK(longest == 12);
  CHECK(used == known);  // every word of the grammar shows up in 4400 sentences
}

TEST_CASE("translation: every French word is aligned, but ne") {
  for (const SentencePair* p : all_pairs()) {
    REQUIRE(p->alignment.size() == p->french.size());
    std::set<int> targets;
    for (size_t j = 0; j < p->french.size(); ++j) {
      const int a = p->alignment[j];
      CHECK(a >= -1);
      CHECK(a < int(p->english.size()));
      CHECK((a == -1) == (p->french[j] == "ne"));
      if (a >= 0) CHECK(targets.insert(a).second);  // one French word per English word
    }
    // the English words nothing translates are exactly "does" and "do"
    for (size_t i = 0; i < p->english.size(); ++i)
      CHECK((targets.count(int(i)) == 0) == (p->english[i] == "does" || p->english[i] == "do"));
  }
}

TEST_CASE("translation: sentences shaped like the header's example align like it") {
  // the small cat does not see the red car
  // le petit chat ne voit pas la voiture rouge
  const std::set<std::string> before = {"small", "big", "young", "old", "pretty", "new"};
  const std::set<std::string> after = {"red", "black", "white", "green", "blue", "heavy"};
  int matched = 0;
  for (const SentencePair* p : all_pairs()) {
    const Tokens& en = p->english;
    if (en.size() != 9 || en[3] != "does" || !before.count(en[1]) || !after.count(en[7])) continue;
    ++matched;
    CAPTURE(join(en));
    CHECK(p->alignment == std::vector<int>{0, 1, 2, -1, 5, 4, 6, 8, 7});
    CHECK(p->french[3] == "ne");
    CHECK(p->french[5] == "pas");
  }
  CHECK(matched > 0);
}

TEST_CASE("translation: adjectives agree with the noun and follow it when French says so") {
  int checked_post = 0, checked_pre = 0;
  for (const SentencePair* p : all_pairs()) {
    const Tokens& en = p->english;
    for (size_t i = 0; i + 1 < en.size(); ++i) {
      // a feminine singular noun after a post-noun adjective: "red car" -> "voiture rouge"
      if (en[i] == "white" && en[i + 1] == "car") {
        CHECK(french_of(*p, i) == "blanche");
        const size_t car =
            size_t(std::find(p->alignment.begin(), p->alignment.end(), int(i + 1)) - p->alignment.begin());
        REQUIRE(car + 1 < p->french.size());
        CHECK(p->french[car] == "voiture");
        CHECK(p->alignment[car + 1] == int(i));
        ++checked_post;
      }
      if (en[i] == "green" && en[i + 1] == "apples") CHECK(french_of(*p, i) == "vertes");
      if (en[i] == "green" && en[i + 1] == "books") CHECK(french_of(*p, i) == "verts");
      // a pre-noun adjective stays before the noun: "small house" -> "petite maison"
      if (en[i] == "small" && en[i + 1] == "house") {
        const size_t house =
            size_t(std::find(p->alignment.begin(), p->alignment.end(), int(i + 1)) - p->alignment.begin());
        REQUIRE(house >= 1);
        REQUIRE(house < p->french.size());
        CHECK(p->french[house] == "maison");
        CHECK(p->french[house - 1] == "petite");
        CHECK(p->alignment[house - 1] == int(i));
        ++checked_pre;
      }
      if (en[i] == "old" && en[i + 1] == "queens") CHECK(french_of(*p, i) == "vieilles");
      if (en[i] == "small" && en[i + 1] == "cats") CHECK(french_of(*p, i) == "petits");
    }
    // determiners agree too
    for (size_t i = 0; i + 1 < en.size(); ++i) {
      if (en[i] == "the" && en[i + 1] == "car") CHECK(french_of(*p, i) == "la");
      if (en[i] == "a" && en[i + 1] == "dog") CHECK(french_of(*p, i) == "un");
      if (en[i] == "the" && en[i + 1] == "dogs") CHECK(french_of(*p, i) == "les");
      if (en[i] == "an") CHECK(std::string("aeiou").find(en[i + 1][0]) != std::string::npos);
    }
  }
  CHECK(checked_post > 0);
  CHECK(checked_pre > 0);
}

TEST_CASE("translation: negation puts ne before the verb and pas after it") {
  int negated = 0;
  for (const SentencePair* p : all_pairs()) {
    const auto en_not = std::find(p->english.begin(), p->english.end(), "not");
    const auto ne = std::find(p->french.begin(), p->french.end(), "ne");
    CHECK((en_not == p->english.end()) == (ne == p->french.end()));
    if (en_not == p->english.end() || ne == p->french.end()) continue;
    ++negated;
    const size_t j = size_t(ne - p->french.begin()), i = size_t(en_not - p->english.begin());
    REQUIRE(j + 2 < p->french.size());
    CHECK(p->french[j + 2] == "pas");
    CHECK(p->alignment[j + 2] == int(i));      // pas <- not
    CHECK(p->alignment[j + 1] == int(i) + 1);  // the verb <- the English verb after "not"
    CHECK((p->english[i - 1] == "does" || p->english[i - 1] == "do"));
  }
  CHECK(negated > 500);
}

TEST_CASE("translation: the verb agrees with its subject") {
  for (const SentencePair* p : all_pairs()) {
    const Tokens& en = p->english;
    if (en.size() >= 3 && en[0] == "he" && en[1] == "sees") CHECK(p->french[1] == "voit");
    if (en.size() >= 3 && en[0] == "we" && en[1] == "see") CHECK(p->french[1] == "voyons");
    if (en.size() >= 3 && en[0] == "the" && en[1] == "dogs" && en[2] == "eat")
      CHECK(p->french[2] == "mangent");
    if (en.size() >= 5 && en[0] == "she" && en[1] == "does" && en[3] == "sleep") {
      CHECK(p->french[1] == "ne");
      CHECK(p->french[2] == "dort");
    }
    // "X and Y" takes a plural verb
    const auto et = std::find(p->french.begin(), p->french.end(), "et");
    if (et != p->french.end()) {
      const auto verb = std::find_if(en.begin(), en.end(), [](const std::string& w) {
        for (const char* v : {"sees", "eats", "sleeps", "see", "eat", "sleep"})
          if (w == v) return true;
        return false;
      });
      if (verb != en.end()) CHECK(verb->back() != 's');
    }
  }
}
