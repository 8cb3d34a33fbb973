// The grammar behind make_translation_corpus (see translation.h).
//
//   S   -> Subj [does|do not] Verb [NP] [PP]       3..12 words
//   Subj-> he | she | we | NP | NP and NP           (animate nouns only)
//   NP  -> Det [Pre] [Post] Noun                    Fr: Det [Pre] Noun [Post]
//   PP  -> in|on|under NP(thing) | with NP(animate)
//
// Every choice is a table lookup, so the French is a function of the English:
// a determiner, adjective or verb agrees with the gender and number that the
// English noun (or subject) fixes. Two simplifications keep it so: every
// French noun, adjective and verb starts with a consonant (no l', n', cet,
// vieil), and "some" is always "des", even before an adjective (spoken French;
// written French prefers "de petits chats"). The words are plain ASCII, so
// terminal tables line up.
#include "lessons/common/translation.h"

#include <array>
#include <set>
#include <string>

#include "tensor/error.h"
#include "tensor/random.h"

namespace heed::course {
namespace {

enum Gender { masculine, feminine };
enum Number { singular, plural };

struct Noun {
  const char *en_singular, *en_plural, *fr_singular, *fr_plural;
  Gender gender;
  bool animate;  // may be a subject or follow "with"
};
const std::array<Noun, 16> kNouns = {{
    {"cat", "cats", "chat", "chats", masculine, true},
    {"dog", "dogs", "chien", "chiens", masculine, true},
    {"horse", "horses", "cheval", "chevaux", masculine, true},
    {"wolf", "wolves", "loup", "loups", masculine, true},
    {"king", "kings", "roi", "rois", masculine, true},
    {"girl", "girls", "fille", "filles", feminine, true},
    {"cow", "cows", "vache", "vaches", feminine, true},
    {"mouse", "mice", "souris", "souris", feminine, true},
    {"queen", "queens", "reine", "reines", feminine, true},
    {"book", "books", "livre", "livres", masculine, false},
    {"garden", "gardens", "jardin", "jardins", masculine, false},
    {"boat", "boats", "bateau", "bateaux", masculine, false},
    {"car", "cars", "voiture", "voitures", feminine, false},
    {"house", "houses", "maison", "maisons", feminine, false},
    {"apple", "apples", "pomme", "pommes", feminine, false},
    {"table", "tables", "table", "tables", feminine, false},
}};

struct Adjective {
  const char* en;
  std::array<const char*, 4> fr;  // [gender * 1 + number * 2]: m sg, f sg, m pl, f pl
  bool before_noun;               // in French; in English every adjective precedes
};
const std::array<Adjective, 12> kAdjectives = {{
    {"small", {"petit", "petite", "petits", "petites"}, true},
    {"big", {"grand", "grande", "grands", "grandes"}, true},
    {"young", {"jeune", "jeune", "jeunes", "jeunes"}, true},
    {"old", {"vieux", "vieille", "vieux", "vieilles"}, true},
    {"pretty", {"joli", "jolie", "jolis", "jolies"}, true},
    {"new", {"nouveau", "nouvelle", "nouveaux", "nouvelles"}, true},
    {"red", {"rouge", "rouge", "rouges", "rouges"}, false},
    {"black", {"noir", "noire", "noirs", "noires"}, false},
    {"white", {"blanc", "blanche", "blancs", "blanches"}, false},
    {"green", {"vert", "verte", "verts", "vertes"}, false},
    {"blue", {"bleu", "bleue", "bleus", "bleues"}, false},
    {"heavy", {"lourd", "lourde", "lourds", "lourdes"}, false},
}};
const char* french(const Adjective& a, Gender g, Number n) { return a.fr[size_t(g + 2 * n)]; }

struct Determiner {
  const char* en;
  bool singular, plural;  // the numbers it takes
  const char *fr_masculine, *fr_feminine, *fr_plural;
};
const std::array<Determiner, 6> kDeterminers = {{
    {"the", true, true, "le", "la", "les"},
    {"a", true, false, "un", "une", nullptr},  // "an" before a vowel
    {"some", false, true, nullptr, nullptr, "des"},
    {"this", true, false, "ce", "cette", nullptr},
    {"these", false, true, nullptr, nullptr, "ces"},
    {"my", true, true, "mon", "ma", "mes"},
}};

// The subject's person and number, which the verb agrees with.
enum Person { third_singular, third_plural, first_plural };

struct Pronoun {
  const char *en, *fr;
  Person person;
};
const std::array<Pronoun, 3> kPronouns = {{
    {"he", "il", third_singular},
    {"she", "elle", third_singular},
    {"we", "nous", first_plural},
}};

struct Verb {
  const char *en_third_singular, *en_base;  // sees / see (also after does, do)
  std::array<const char*, 3> fr;            // by Person: voit, voient, voyons
  bool transitive;
};
const std::array<Verb, 11> kVerbs = {{
    {"sees", "see", {"voit", "voient", "voyons"}, true},
    {"eats", "eat", {"mange", "mangent", "mangeons"}, true},
    {"wants", "want", {"veut", "veulent", "voulons"}, true},
    {"takes", "take", {"prend", "prennent", "prenons"}, true},
    {"carries", "carry", {"porte", "portent", "portons"}, true},
    {"finds", "find", {"trouve", "trouvent", "trouvons"}, true},
    {"watches", "watch", {"regarde", "regardent", "regardons"}, true},
    {"follows", "follow", {"suit", "suivent", "suivons"}, true},
    {"sleeps", "sleep", {"dort", "dorment", "dormons"}, false},
    {"runs", "run", {"court", "courent", "courons"}, false},
    {"sings", "sing", {"chante", "chantent", "chantons"}, false},
}};

struct Preposition {
  const char *en, *fr;
  bool animate;  // the kind of noun it takes
};
const std::array<Preposition, 4> kPrepositions = {{
    {"in", "dans", false},
    {"on", "sur", false},
    {"under", "sous", false},
    {"with", "avec", true},
}};

template <class T, size_t N>
const T& pick(const std::array<T, N>& items, Generator& gen) {
  return items[size_t(gen.randint(int64_t(N)))];
}
bool chance(Generator& gen, int64_t percent) { return gen.randint(100) < percent; }

// One pair under construction: each French word records the English index it translates.
struct Builder {
  SentencePair pair;
  int english(const std::string& word) {
    pair.english.push_back(word);
    return int(pair.english.size()) - 1;
  }
  void french(const std::string& word, int aligned) {
    pair.french.push_back(word);
    pair.alignment.push_back(aligned);
  }
};

const Noun& pick_noun(Generator& gen, bool animate) {
  for (;;) {
    const Noun& noun = pick(kNouns, gen);
    if (noun.animate == animate) return noun;
  }
}

const Adjective& pick_adjective(Generator& gen, bool before_noun) {
  for (;;) {
    const Adjective& a = pick(kAdjectives, gen);
    if (a.before_noun == before_noun) return a;
  }
}

// English: det [pre] [post] noun.  French: det [pre] noun [post], all agreeing.
Number noun_phrase(Builder& b, Generator& gen, bool animate) {
  const Number number = gen.randint(2) ? plural : singular;
  const Noun& noun = pick_noun(gen, animate);
  const Determiner* det = nullptr;
  while (!det || !(number == plural ? det->plural : det->singular)) det = &pick(kDeterminers, gen);
  const Adjective* pre = chance(gen, 30) ? &pick_adjective(gen, true) : nullptr;
  const Adjective* post = chance(gen, 30) ? &pick_adjective(gen, false) : nullptr;

  const char* head = number == plural ? noun.en_plural : noun.en_singular;
  const std::string next = pre ? pre->en : post ? post->en : head;
  const bool an = det->en == std::string("a") && std::string("aeiou").find(next[0]) != std::string::npos;
  const int i_det = b.english(an ? "an" : det->en);
  const int i_pre = pre ? b.english(pre->en) : -1;
  const int i_post = post ? b.english(post->en) : -1;
  const int i_noun = b.english(head);

  const Gender g = noun.gender;
  b.french(number == plural ? det->fr_plural : g == feminine ? det->fr_feminine : det->fr_masculine, i_det);
  if (pre) b.french(french(*pre, g, number), i_pre);
  b.french(number == plural ? noun.fr_plural : noun.fr_singular, i_noun);
  if (post) b.french(french(*post, g, number), i_post);
  return number;
}

Person subject(Builder& b, Generator& gen) {
  const int64_t kind = gen.randint(100);
  if (kind < 20) {
    const Pronoun& p = pick(kPronouns, gen);
    b.french(p.fr, b.english(p.en));
    return p.person;
  }
  const Number number = noun_phrase(b, gen, /*animate=*/true);
  if (kind < 35) {
    b.french("et", b.english("and"));
    noun_phrase(b, gen, /*animate=*/true);
    return third_plural;
  }
  return number == plural ? third_plural : third_singular;
}

SentencePair sentence(Generator& gen) {
  for (;;) {
    Builder b;
    const Person person = subject(b, gen);
    const Verb& verb = pick(kVerbs, gen);
    if (chance(gen, 30)) {
      // does not see -> ne voit pas: "ne" translates nothing alone, "does" has no French word.
      b.english(person == third_singular ? "does" : "do");
      const int i_not = b.english("not");
      b.french("ne", -1);
      b.french(verb.fr[person], b.english(verb.en_base));
      b.french("pas", i_not);
    } else {
      b.french(verb.fr[person], b.english(person == third_singular ? verb.en_third_singular : verb.en_base));
    }
    if (verb.transitive) noun_phrase(b, gen, /*animate=*/chance(gen, 50));
    if (chance(gen, verb.transitive ? 30 : 60)) {
      const Preposition& p = pick(kPrepositions, gen);
      b.french(p.fr, b.english(p.en));
      noun_phrase(b, gen, p.animate);
    }
    const size_t n = b.pair.english.size();
    if (n >= 3 && n <= 12) return b.pair;
  }
}

}  // namespace

TranslationCorpus make_translation_corpus(const TranslationCorpusOptions& options) {
  HEED_CHECK(options.train >= 0 && options.validation >= 0 && options.test >= 0,
             "make_translation_corpus: split sizes ", options.train, ", ", options.validation, ", ",
             options.test, " must not be negative");
  const int64_t total = options.train + options.validation + options.test;
  // The grammar makes far more than a million sentences: distinct ones come fast.
  HEED_CHECK(total <= 1000000, "make_translation_corpus: ", total, " sentences is more than this toy is for");
  Generator gen(options.seed);
  std::set<Tokens> seen;
  std::vector<SentencePair> pairs;
  pairs.reserve(size_t(total));
  while (int64_t(pairs.size()) < total) {
    SentencePair pair = sentence(gen);
    if (seen.insert(pair.english).second) pairs.push_back(std::move(pair));
  }
  // Distinct sentences are drawn in one stream; shuffling before the split keeps
  // the splits alike (the first draws are the short, common sentences).
  for (size_t i = pairs.size(); i > 1; --i) std::swap(pairs[i - 1], pairs[size_t(gen.randint(int64_t(i)))]);

  TranslationCorpus corpus;
  auto take = [&](std::vector<SentencePair>& split, int64_t count, size_t from) {
    split.assign(std::make_move_iterator(pairs.begin() + int64_t(from)),
                 std::make_move_iterator(pairs.begin() + int64_t(from) + count));
  };
  take(corpus.train, options.train, 0);
  take(corpus.validation, options.validation, size_t(options.train));
  take(corpus.test, options.test, size_t(options.train + options.validation));
  return corpus;
}

std::vector<std::string> english_words() {
  std::vector<std::string> words;
  for (const Determiner& d : kDeterminers) words.push_back(d.en);
  words.push_back("an");
  for (const Pronoun& p : kPronouns) words.push_back(p.en);
  for (const Noun& n : kNouns) words.insert(words.end(), {n.en_singular, n.en_plural});
  for (const Adjective& a : kAdjectives) words.push_back(a.en);
  for (const Verb& v : kVerbs) words.insert(words.end(), {v.en_third_singular, v.en_base});
  words.insert(words.end(), {"does", "do", "not", "and"});
  for (const Preposition& p : kPrepositions) words.push_back(p.en);
  return words;
}

}  // namespace heed::course
