#include "lessons/train/config.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string_view>
#include <vector>

#include "tensor/error.h"

namespace heed::train {
namespace {

const std::vector<std::string> kModels = {"selfhead", "multihead", "focus",
                                          "bahdanau", "luong",     "transformer"};
const std::vector<std::string> kSequenceTasks = {"copy", "reverse", "sort"};

std::string list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

bool one_of(const std::string& value, const std::vector<std::string>& names) {
  for (const std::string& n : names)
    if (n == value) return true;
  return false;
}

int64_t whole_number(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  HEED_CHECK(!text.empty() && end != text.c_str() && *end == '\0' && errno == 0, "--", flag,
             " takes a whole number, not '", text, "'");
  return value;
}

double real_number(const std::string& flag, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  HEED_CHECK(!text.empty() && end != text.c_str() && *end == '\0' && errno == 0 && std::isfinite(value), "--",
             flag, " takes a number, not '", text, "'");
  return value;
}

// One setting: its flag, what it means, and how to read and show it.
struct Setting {
  std::string flag, help;
  std::function<void(Config&, const std::string&)> set;
  std::function<std::string(const Config&)> show;
};

template <class T>
Setting number(std::string flag, std::string help, T Config::*field) {
  return {flag, std::move(help),
          [flag, field](Config& c, const std::string& text) {
            if constexpr (std::is_floating_point_v<T>)
              c.*field = T(real_number(flag, text));
            else
              c.*field = T(whole_number(flag, text));
          },
          [field](const Config& c) {
            if constexpr (std::is_floating_point_v<T>) {
              char buffer[32];
              std::snprintf(buffer, sizeof buffer, "%g", double(c.*field));
              return std::string(buffer);
            } else {
              return std::to_string(c.*field);
            }
          }};
}

Setting text(std::string flag, std::string help, std::string Config::*field) {
  return {flag, std::move(help), [field](Config& c, const std::string& t) { c.*field = t; },
          [field](const Config& c) { return c.*field; }};
}

const std::vector<Setting>& settings() {
  static const std::vector<Setting> all = {
      text("model", "the model: " + list(kModels), &Config::model),
      text("task", "the task: copy, reverse, sort (bahdanau, luong, transformer) or cue (the others)",
           &Config::task),
      number("embed_dim", "the embedding and hidden width E", &Config::embed_dim),
      number("num_heads", "attention heads H (E must divide by H; selfhead has 1)", &Config::num_heads),
      number("learning_rate", "Adam's learning rate", &Config::learning_rate),
      number("batch_size", "sequences per step", &Config::batch_size),
      number("seq_length", "the sequences' length (cue: the padded width, >= 8)", &Config::seq_length),
      number("epochs", "epochs in all (a resumed run counts the checkpoint's)", &Config::epochs),
      number("steps_per_epoch", "training steps per epoch", &Config::steps_per_epoch),
      number("seed", "the seed of the weights, the data and dropout", &Config::seed),
      number("threads", "threads for heed's kernels (0: HEED_THREADS, else one per core)", &Config::threads),
      text("save_path", "where the checkpoint goes, after every epoch", &Config::save_path),
      text("load", "a checkpoint to resume from (its settings are used)", &Config::load),
  };
  return all;
}

// The settings that fix the model, its data and its schedule: a resumed run must keep them.
const std::vector<std::string> kArchitecture = {"model",      "task",       "embed_dim",       "num_heads",
                                                "batch_size", "seq_length", "steps_per_epoch", "seed"};

const Setting& find(const std::string& flag) {
  for (const Setting& s : settings())
    if (s.flag == flag) return s;
  std::string valid;
  for (const Setting& s : settings()) valid += (valid.empty() ? "--" : ", --") + s.flag;
  throw Error("unknown flag '--" + flag + "' (valid flags: " + valid + ", --interactive, --help)");
}

void usage() {
  std::printf(
      "heed-train: trains one of the course's attention models on a toy task, with a\n"
      "progress bar, a checkpoint after every epoch, and exact resumption from it.\n\n"
      "  heed-train --model transformer --task reverse --epochs 3\n"
      "  heed-train --load heed-train.safetensors --epochs 6     (three more epochs)\n\n");
  Config defaults;
  for (const Setting& s : settings())
    std::printf("  --%-16s %s (default: %s)\n", s.flag.c_str(), s.help.c_str(),
                s.show(defaults).empty() ? "none" : s.show(defaults).c_str());
  std::printf("  --%-16s asks for each value, showing its default\n  --%-16s this text\n", "interactive",
              "help");
}

}  // namespace

bool is_classifier(const std::string& model) {
  return model == "selfhead" || model == "multihead" || model == "focus";
}

Config parse_flags(int argc, char** argv) {
  Config config;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage();
      std::exit(0);
    }
    if (arg == "--interactive") {
      config.interactive = true;
      continue;
    }
    HEED_CHECK(arg.rfind("--", 0) == 0 && arg.size() > 2, "'", arg,
               "' is not a flag; flags look like --epochs 3 (see --help)");
    std::string flag = arg.substr(2), value;
    const size_t equals = flag.find('=');
    const Setting& setting = find(equals == std::string::npos ? flag : flag.substr(0, equals));
    if (equals != std::string::npos) {
      value = flag.substr(equals + 1);
    } else {
      HEED_CHECK(i + 1 < argc, "--", flag, " needs a value");
      value = argv[++i];
    }
    setting.set(config, value);
    config.given.insert(setting.flag);
  }
  return config;
}

void ask(Config& config, std::istream& in, std::ostream& out) {
  for (const Setting& s : settings()) {
    while (true) {
      out << s.flag << " (" << s.help << ") [" << s.show(config) << "]: " << std::flush;
      std::string line;
      if (!std::getline(in, line)) {
        out << "\n";
        return;  // EOF: keep the rest
      }
      if (line.empty()) break;
      try {
        s.set(config, line);
        config.given.insert(s.flag);
        break;
      } catch (const Error& e) {
        out << "  " << e.what() << "; try again, or press Enter for " << s.show(config) << "\n";
      }
    }
  }
}

void validate(Config& c) {
  HEED_CHECK(one_of(c.model, kModels), "--model ", c.model, " is not a model; choose one of ", list(kModels));
  const bool classifier = is_classifier(c.model);
  if (c.task.empty()) c.task = classifier ? "cue" : "reverse";
  if (classifier)
    HEED_CHECK(c.task == "cue", "--model ", c.model, " classifies: its task is cue, not '", c.task,
               "' (copy, reverse and sort need bahdanau, luong or transformer)");
  else
    HEED_CHECK(one_of(c.task, kSequenceTasks), "--model ", c.model,
               " translates sequences: its task is one of ", list(kSequenceTasks), ", not '", c.task, "'");
  if (c.model == "selfhead") {
    HEED_CHECK(!c.given.count("num_heads") || c.num_heads == 1, "--model selfhead has one head, not ",
               c.num_heads, "; use --model multihead for more");
    c.num_heads = 1;
  }
  auto in_range = [](const char* flag, int64_t value, int64_t low, int64_t high) {
    HEED_CHECK(value >= low && value <= high, "--", flag, " must be from ", low, " to ", high, ", got ",
               value);
  };
  in_range("embed_dim", c.embed_dim, 1, 4096);
  in_range("num_heads", c.num_heads, 1, 256);
  in_range("batch_size", c.batch_size, 1, 1 << 16);
  in_range("seq_length", c.seq_length, c.task == "cue" ? 8 : 1, 256);
  in_range("epochs", c.epochs, 1, 1 << 20);
  in_range("steps_per_epoch", c.steps_per_epoch, 1, 1 << 24);
  in_range("threads", c.threads, 0, 256);
  HEED_CHECK(c.embed_dim % c.num_heads == 0, "--num_heads ", c.num_heads, " does not divide --embed_dim ",
             c.embed_dim, ": each head gets embed_dim / num_heads features (try --num_heads ",
             c.embed_dim % 4 == 0 ? 4 : 1, ")");
  HEED_CHECK(c.learning_rate > 0 && c.learning_rate <= 10, "--learning_rate must be in (0, 10], got ",
             c.learning_rate);
  HEED_CHECK(!c.save_path.empty(), "--save_path needs a file name");
}

void write_config(const Config& config, nn::Metadata& metadata) {
  for (const std::string& flag : kArchitecture) metadata["heed-train." + flag] = find(flag).show(config);
}

void read_config(Config& config, const nn::Metadata& metadata, const std::string& path) {
  for (const std::string& flag : kArchitecture) {
    auto it = metadata.find("heed-train." + flag);
    HEED_CHECK(it != metadata.end(), path, " is not a heed-train checkpoint (its metadata has no heed-train.",
               flag, "); --load takes a file that heed-train saved");
    const Setting& s = find(flag);
    if (config.given.count(flag) && s.show(config) != it->second)
      throw Error(path + " was trained with --" + flag + " " + it->second + ", not " + s.show(config) +
                  "; drop --" + flag + " to resume it, or train afresh without --load");
    s.set(config, it->second);
  }
}

}  // namespace heed::train
