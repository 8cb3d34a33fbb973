#include "lessons/common/tasks.h"

#include <algorithm>
#include <array>
#include <cstdio>

#include "tensor/error.h"

namespace heed::course {

const char* name_of(SequenceTask task) {
  switch (task) {
    case SequenceTask::copy:
      return "copy";
    case SequenceTask::reverse:
      return "reverse";
    case SequenceTask::sort:
      return "sort";
  }
  return "?";
}

SequencePairs sequence_task(SequenceTask task, int64_t batch, int64_t length, int64_t symbols,
                            Generator& gen) {
  HEED_CHECK(batch > 0 && length > 0 && symbols > 0, "sequence_task(", name_of(task), "): batch ", batch,
             ", length ", length, " and symbols ", symbols, " must all be positive");
  SequencePairs pairs{empty({batch, length}), empty({batch, length})};
  std::vector<int64_t> row(size_t(length), 0);
  for (int64_t b = 0; b < batch; ++b) {
    for (auto& s : row) s = gen.randint(symbols);
    for (int64_t t = 0; t < length; ++t) pairs.source.data()[b * length + t] = float(row[size_t(t)]);
    if (task == SequenceTask::reverse) std::reverse(row.begin(), row.end());
    if (task == SequenceTask::sort) std::sort(row.begin(), row.end());
    for (int64_t t = 0; t < length; ++t) pairs.target.data()[b * length + t] = float(row[size_t(t)]);
  }
  return pairs;
}

// ---------------------------------------------------------------- dates
namespace {

const std::array<const char*, 12> kMonths = {"january",   "february", "march",    "april",
                                             "may",       "june",     "july",     "august",
                                             "september", "october",  "november", "december"};

const std::array<const char*, 20> kUnits = {"zero",    "one",     "two",       "three",    "four",
                                            "five",    "six",     "seven",     "eight",    "nine",
                                            "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                            "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
const std::array<const char*, 10> kTens = {"",      "",      "twenty",  "thirty", "forty",
                                           "fifty", "sixty", "seventy", "eighty", "ninety"};

const std::array<const char*, 20> kUnitOrdinals = {
    "zeroth",     "first",     "second",    "third",       "fourth",     "fifth",     "sixth",
    "seventh",    "eighth",    "ninth",     "tenth",       "eleventh",   "twelfth",   "thirteenth",
    "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth"};

// 0..99 in words: "seven", "forty", "twenty-one".
std::string cardinal(int n) {
  if (n < 20) return kUnits[size_t(n)];
  std::string word = kTens[size_t(n / 10)];
  if (n % 10) word += std::string("-") + kUnits[size_t(n % 10)];
  return word;
}

// 1..31 as an ordinal: "third", "twentieth", "thirty-first".
std::string ordinal(int n) {
  if (n < 20) return kUnitOrdinals[size_t(n)];
  if (n % 10 == 0) return n == 20 ? "twentieth" : "thirtieth";
  return std::string(kTens[size_t(n / 10)]) + "-" + kUnitOrdinals[size_t(n % 10)];
}

// A year 1900..2099 the way people say it; `style` picks among the ways:
// 1984 "nineteen eighty-four", 1905 "nineteen oh five", 1900 "nineteen hundred";
// 2021 "two thousand and twenty-one" / "two thousand twenty-one" / "twenty twenty-one".
std::string year_words(int year, int64_t style) {
  const int rest = year % 100;
  if (year < 2000) {
    if (rest == 0) return "nineteen hundred";
    return std::string("nineteen ") + (rest < 10 ? "oh " : "") + cardinal(rest);
  }
  if (rest == 0) return "two thousand";
  switch (style) {
    case 0:
      return "two thousand and " + cardinal(rest);
    case 1:
      return "two thousand " + cardinal(rest);
    default:
      return std::string("twenty ") + (rest < 10 ? "oh " : "") + cardinal(rest);
  }
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in(int month, int year) {
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[size_t(month - 1)];
}

}  // namespace

std::vector<DatePair> make_dates(int64_t n, Generator& gen) {
  HEED_CHECK(n >= 0, "make_dates: n ", n, " must not be negative");
  // Every day of 1900-01-01 .. 2099-12-31 equally likely: draw a day number and walk to it.
  int64_t total = 0;
  for (int y = 1900; y <= 2099; ++y) total += is_leap(y) ? 366 : 365;
  std::vector<DatePair> dates;
  dates.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    int64_t day = gen.randint(total);
    int year = 1900, month = 1;
    while (day >= (is_leap(year) ? 366 : 365)) day -= is_leap(year) ? 366 : 365, ++year;
    while (day >= days_in(month, year)) day -= days_in(month, year), ++month;
    const int dom = int(day) + 1;

    const std::string d = ordinal(dom), m = kMonths[size_t(month - 1)];
    const std::string y = year_words(year, gen.randint(3));
    std::string words;
    switch (gen.randint(4)) {
      case 0:
        words = "the " + d + " of " + m + ", " + y;
        break;  // the third of march, ...
      case 1:
        words = m + " the " + d + ", " + y;
        break;  // march the third, ...
      case 2:
        words = d + " " + m + " " + y;
        break;  // third march ...
      default:
        words = m + " " + d + ", " + y;
        break;  // march third, ...
    }
    char iso[40];  // room for any three ints, so the compiler sees no truncation
    std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", year, month, dom);
    dates.push_back({words, iso});
  }
  return dates;
}

// ---------------------------------------------------------------- local cue
CueTask local_cue_task(int64_t batch, Generator& gen, int64_t vocab, int64_t width) {
  HEED_CHECK(batch > 0, "local_cue_task: batch ", batch, " must be positive");
  HEED_CHECK(vocab >= 4, "local_cue_task: vocab ", vocab, " leaves no distractor (ids 3..vocab-1)");
  HEED_CHECK(width >= 8, "local_cue_task: width ", width, " is below the shortest sequence, 8");
  CueTask task{zeros({batch, width}), ones({batch, width}), zeros({batch})};
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t length = 8 + gen.randint(width - 7);
    const int64_t at = gen.randint(length - 1);  // the cue fills at, at + 1
    const bool label = gen.randint(2) == 1;
    float* ids = task.ids.data() + b * width;
    for (int64_t t = 0; t < length; ++t) ids[t] = float(3 + gen.randint(vocab - 3));
    ids[at] = label ? 1.0f : 2.0f;
    ids[at + 1] = label ? 2.0f : 1.0f;
    std::fill_n(task.padding.data() + b * width, length, 0.0f);
    task.labels.data()[b] = label ? 1.0f : 0.0f;
  }
  return task;
}

}  // namespace heed::course
