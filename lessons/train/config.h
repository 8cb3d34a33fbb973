// heed-train's settings: every flag, its default, its check, and --interactive.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <set>
#include <string>

#include "nn/io/safetensors.h"

namespace heed::train {

struct Config {
  std::string model = "multihead";  // selfhead, multihead, focus, bahdanau, luong, transformer
  std::string task;        // copy, reverse, sort (sequence models), cue (classifiers); "" = the model's
  int64_t embed_dim = 64;  // E (d_model, hidden size)
  int64_t num_heads = 4;   // H (selfhead: 1)
  double learning_rate = 3e-3;
  int64_t batch_size = 64;
  int64_t seq_length = 12;  // the sequences' length (cue: the padded width)
  int64_t epochs = 5;       // in all, counting the epochs a --load-ed checkpoint already trained
  int64_t steps_per_epoch = 100;
  uint64_t seed = 0;
  int threads = 0;  // 0: HEED_THREADS, else one per core
  std::string save_path = "heed-train.safetensors";
  std::string load;  // a checkpoint to resume from
  bool interactive = false;

  std::set<std::string> given;  // the flags set on the command line (a checkpoint must agree with them)
};

// Parses argv. --help prints the usage and exits 0. A bad flag or value is a
// heed::Error whose message is the one line heed-train prints.
Config parse_flags(int argc, char** argv);
// Asks for each setting on `out`, showing its value ("embed_dim [64]: "); an
// empty answer keeps it, a bad one is explained and asked again. EOF keeps the rest.
void ask(Config& config, std::istream& in, std::ostream& out);
// Fills in the task and checks every value together (sizes, heads dividing
// embed_dim, the model and task agreeing); a heed::Error names what is wrong.
void validate(Config& config);

// A checkpoint's copy of the settings that fix the model and its data, and
// the other way round: a checkpoint's settings override the defaults, and an
// explicitly given flag that disagrees is a heed::Error.
void write_config(const Config& config, nn::Metadata& metadata);
void read_config(Config& config, const nn::Metadata& metadata, const std::string& path);

bool is_classifier(const std::string& model);

}  // namespace heed::train
