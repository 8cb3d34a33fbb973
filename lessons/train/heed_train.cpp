// heed-train: the course's attention models trained from the command line.
//
//   heed-train --model transformer --task reverse --epochs 3
//   heed-train --load heed-train.safetensors --epochs 6
//
// Models: selfhead and multihead (a self-attention classifier), focus
// (FocusLSTM), bahdanau and luong (lessons 06-08's GRU encoder-decoder), and
// transformer (nn::Seq2SeqTransformer). Tasks: cue (lessons/common/tasks.h's
// local-cue classification) for the classifiers; copy, reverse and sort of
// sequences over 10 symbols for the others.
//
// Exact resumption. The checkpoint (one safetensors file, written after every
// epoch, never half-written) holds the model ("model.*"), Adam's state
// ("optimizer.*") and, in its metadata, the settings that fix the model and the
// data, and the epochs done. Nothing else carries state from step to step:
// step s's batch is drawn from a generator seeded by (seed, s), and every
// dropout layer is reseeded from (seed, s) before it; so training 2 epochs, or
// 1 then resuming for 1 more, writes the same bytes (tests/lessons/check_heed_train.sh).
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "lessons/common/progress.h"
#include "lessons/common/seq2seq.h"
#include "lessons/common/tasks.h"
#include "lessons/train/config.h"
#include "nn/nn.h"

using namespace heed;
using train::Config;

namespace {

constexpr int64_t kSymbols = 10;  // the sequence tasks' alphabet; id kSymbols starts the decoder
constexpr int64_t kCueVocab = 20;
constexpr int64_t kValidation = 512;

// A seed for step `step` of the run with seed `seed` (SplitMix64's finalizer):
// nearby steps get unrelated streams.
uint64_t mix(uint64_t seed, uint64_t step) {
  uint64_t z = seed * 0x9E3779B97F4A7C15ull + step + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// One batch of either kind of task.
struct Examples {
  Tensor source, target;        // (B, L) each: sequence tasks
  Tensor ids, padding, labels;  // (B, W), (B, W), (B,): cue
};

Examples draw(const Config& c, int64_t batch, uint64_t seed) {
  Generator gen(seed);
  if (c.task == "cue") {
    course::CueTask t = course::local_cue_task(batch, gen, kCueVocab, c.seq_length);
    return {{}, {}, t.ids, t.padding, t.labels};
  }
  const course::SequenceTask task = c.task == "copy"      ? course::SequenceTask::copy
                                    : c.task == "reverse" ? course::SequenceTask::reverse
                                                          : course::SequenceTask::sort;
  course::SequencePairs p = course::sequence_task(task, batch, c.seq_length, kSymbols, gen);
  return {p.source, p.target, {}, {}, {}};
}

// selfhead / multihead: embed + sinusoidal positions, one self-attention layer
// with a residual and a LayerNorm, the mean over the real tokens, a linear read-out.
//   ids (B, W) -> x (B, W, E) -> h (B, W, E) -> pooled (B, E) -> logits (B, 2)
class AttentionClassifier : public nn::Module {
 public:
  AttentionClassifier(const Config& c, Generator& gen) : Module("AttentionClassifier") {
    embed_ = register_module(
        "embed", std::make_shared<nn::Embedding>(
                     nn::EmbeddingOptions{.num_embeddings = kCueVocab, .embedding_dim = c.embed_dim}, gen));
    positions_ = register_module(
        "positions", std::make_shared<nn::SinusoidalPositionalEncoding>(
                         nn::PositionalEncodingOptions{.embedding_dim = c.embed_dim, .max_length = 256}));
    attention_ = register_module(
        "attention",
        std::make_shared<nn::MultiHeadAttention>(
            nn::MultiHeadAttentionOptions{.embed_dim = c.embed_dim, .num_heads = c.num_heads}, gen));
    norm_ = register_module(
        "norm", std::make_shared<nn::LayerNorm>(nn::LayerNormOptions{.normalized_shape = c.embed_dim}));
    out_ = register_module("out", std::make_shared<nn::Linear>(
                                      nn::LinearOptions{.in_features = c.embed_dim, .out_features = 2}, gen));
  }
  Variable forward(const Tensor& ids, const Tensor& padding) {
    Variable x = positions_->forward(embed_->forward(ids));
    Variable h = norm_->forward(x + attention_->forward(x, {.key_padding = padding}).output);
    const Tensor keep = unsqueeze(sub(ones(padding.shape()), padding), 2);  // (B, W, 1)
    Variable pooled = sum(h * Variable(keep), {1}) / Variable(sum(keep, {1}));
    return out_->forward(pooled);
  }

 private:
  std::shared_ptr<nn::Embedding> embed_;
  std::shared_ptr<nn::SinusoidalPositionalEncoding> positions_;
  std::shared_ptr<nn::MultiHeadAttention> attention_;
  std::shared_ptr<nn::LayerNorm> norm_;
  std::shared_ptr<nn::Linear> out_;
};

// What the loop needs of a model: its module, a training loss and a validation score.
class Trainee {
 public:
  virtual ~Trainee() = default;
  virtual nn::Module& module() = 0;
  virtual Variable loss(const Examples& batch) = 0;
  // Accuracy in [0, 1]: of the labels, or of whole sequences decoded greedily.
  virtual double accuracy(const Examples& data) = 0;
  virtual const char* measure() const = 0;
};

class Classifier : public Trainee {
 public:
  explicit Classifier(const Config& c) {
    Generator gen(mix(c.seed, ~0ull));
    if (c.model == "focus")
      focus_ = std::make_unique<nn::FocusLSTM>(nn::FocusLSTMOptions{.vocab_size = kCueVocab,
                                                                    .hidden_size = c.embed_dim,
                                                                    .num_heads = c.num_heads,
                                                                    .num_classes = 2,
                                                                    .seed = mix(c.seed, ~1ull)});
    else
      attention_ = std::make_unique<AttentionClassifier>(c, gen);
  }
  nn::Module& module() override { return focus_ ? static_cast<nn::Module&>(*focus_) : *attention_; }
  Variable loss(const Examples& b) override { return nn::CrossEntropyLoss()(logits(b), b.labels); }
  double accuracy(const Examples& d) override {
    NoGradGuard no_grad;
    return mean(eq(argmax(logits(d).value(), -1), d.labels)).item();
  }
  const char* measure() const override { return "accuracy"; }

 private:
  Variable logits(const Examples& b) {
    return focus_ ? focus_->forward(b.ids, b.padding).logits : attention_->forward(b.ids, b.padding);
  }
  std::unique_ptr<nn::FocusLSTM> focus_;
  std::unique_ptr<AttentionClassifier> attention_;
};

// Fraction of rows of `predicted` (B, L) equal to `target` in every position.
double exact_match(const Tensor& predicted, const Tensor& target) {
  const Tensor right = sum(eq(predicted, target), {1});  // (B,) positions right
  return mean(eq(right, full(right.shape(), float(target.size(1))))).item();
}

class Translator : public Trainee {
 public:
  explicit Translator(const Config& c) : length_(c.seq_length) {
    if (c.model == "transformer") {
      transformer_ = std::make_unique<nn::Seq2SeqTransformer>(
          nn::Seq2SeqTransformerOptions{.src_vocab = kSymbols,
                                        .tgt_vocab = kSymbols + 1,
                                        .d_model = c.embed_dim,
                                        .nhead = c.num_heads,
                                        .num_encoder_layers = 2,
                                        .num_decoder_layers = 2,
                                        .dim_feedforward = 4 * c.embed_dim,
                                        .dropout = 0.1f,
                                        .max_length = 256,
                                        .seed = mix(c.seed, ~0ull)});
    } else {
      rnn_ = std::make_unique<course::Seq2Seq>(
          course::Seq2SeqOptions{.source_vocab = kSymbols,
                                 .target_vocab = kSymbols + 1,
                                 .embed = c.embed_dim,
                                 .hidden = c.embed_dim,
                                 .attention = c.model == "bahdanau" ? course::AttentionKind::bahdanau
                                                                    : course::AttentionKind::luong_general,
                                 .bos = kSymbols,
                                 .seed = mix(c.seed, ~0ull)});
    }
  }
  nn::Module& module() override { return transformer_ ? static_cast<nn::Module&>(*transformer_) : *rnn_; }
  Variable loss(const Examples& b) override {
    Variable logits;
    if (transformer_) {
      const int64_t B = b.target.size(0);
      const Tensor shifted = cat({full({B, 1}, float(kSymbols)), narrow(b.target, 1, 0, length_ - 1)}, 1);
      logits = transformer_->forward(b.source, shifted);
    } else {
      logits = rnn_->forward(b.source, Tensor(), b.target).logits;
    }
    return nn::CrossEntropyLoss()(reshape(logits, {-1, kSymbols + 1}), flatten(b.target));
  }
  double accuracy(const Examples& d) override {
    NoGradGuard no_grad;
    module().eval();
    Tensor predicted;
    if (transformer_) {
      auto decoder = transformer_->make_decoder(d.source);
      std::vector<nn::Hypothesis> best = nn::greedy_search(
          *decoder, d.source.size(0), {.max_new_tokens = length_, .decoder_start_token_id = kSymbols});
      std::vector<float> ids;
      for (const nn::Hypothesis& h : best) ids.insert(ids.end(), h.tokens.begin(), h.tokens.end());
      predicted = from_vector(ids, {d.source.size(0), length_});
    } else {
      predicted = rnn_->greedy(d.source, Tensor(), length_).ids;
    }
    module().train();
    return exact_match(predicted, d.target);
  }
  const char* measure() const override { return "exact match"; }

 private:
  int64_t length_;
  std::unique_ptr<nn::Seq2SeqTransformer> transformer_;
  std::unique_ptr<course::Seq2Seq> rnn_;
};

// Every Dropout in the tree, depth first: reseeded before each step.
void collect_dropout(nn::Module& m, std::vector<nn::Dropout*>& out) {
  if (auto* d = dynamic_cast<nn::Dropout*>(&m)) out.push_back(d);
  for (const auto& [name, child] : m.children()) collect_dropout(*child, out);
}

nn::NamedTensors prefixed(const std::string& prefix, const nn::NamedTensors& tensors) {
  nn::NamedTensors out;
  for (const auto& [name, t] : tensors) out.emplace_back(prefix + name, t);
  return out;
}

// The tensors and metadata under `prefix`, with the prefix removed.
nn::Safetensors unprefixed(const std::string& prefix, const nn::Safetensors& file) {
  nn::Safetensors part;
  for (const auto& [name, t] : file.tensors)
    if (name.rfind(prefix, 0) == 0) part.tensors.emplace_back(name.substr(prefix.size()), t);
  for (const auto& [key, value] : file.metadata)
    if (key.rfind(prefix, 0) == 0) part.metadata[key.substr(prefix.size())] = value;
  return part;
}

void save_checkpoint(const Config& c, nn::Module& model, const nn::Optimizer& adam, int64_t epochs_done) {
  nn::NamedTensors tensors = prefixed("model.", model.state_dict());
  const nn::Safetensors optimizer = adam.state_dict();
  for (auto& entry : prefixed("optimizer.", optimizer.tensors)) tensors.push_back(entry);
  nn::Metadata metadata;
  for (const auto& [key, value] : optimizer.metadata) metadata["optimizer." + key] = value;
  train::write_config(c, metadata);
  metadata["heed-train.epochs_done"] = std::to_string(epochs_done);
  nn::save_safetensors(c.save_path, tensors, metadata);
}

int run(Config c) {
  nn::Safetensors checkpoint;
  if (!c.load.empty()) {
    checkpoint = nn::load_safetensors(c.load);
    train::read_config(c, checkpoint.metadata, c.load);
  }
  train::validate(c);
  if (c.threads > 0) set_num_threads(c.threads);

  std::unique_ptr<Trainee> trainee;
  if (train::is_classifier(c.model))
    trainee = std::make_unique<Classifier>(c);
  else
    trainee = std::make_unique<Translator>(c);
  nn::Module& model = trainee->module();
  nn::Adam adam(model.named_parameters(), {.lr = c.learning_rate});
  int64_t done = 0;
  if (!c.load.empty()) {
    model.load_state_dict(unprefixed("model.", checkpoint).tensors, {}, c.load);
    adam.load_state_dict(unprefixed("optimizer.", checkpoint), c.load);
    adam.set_lr(c.learning_rate);
    const auto it = checkpoint.metadata.find("heed-train.epochs_done");
    HEED_CHECK(it != checkpoint.metadata.end(), c.load,
               " has no heed-train.epochs_done; it is not a heed-train checkpoint");
    done = std::stoll(it->second);
  }
  std::vector<nn::Dropout*> dropouts;
  collect_dropout(model, dropouts);

  std::printf(
      "heed-train: %s on %s, embed_dim %lld, %lld head%s, %lld parameters; %s\n", c.model.c_str(),
      c.task.c_str(), (long long)c.embed_dim, (long long)c.num_heads, c.num_heads == 1 ? "" : "s",
      (long long)model.num_parameters(),
      done > 0 ? ("resuming after epoch " + std::to_string(done) + " of " + c.load).c_str() : "from scratch");
  const Examples validation = draw(c, kValidation, mix(c.seed, ~2ull));
  if (done >= c.epochs) {
    std::printf("already trained for %lld epochs; pass --epochs %lld or more to train on\n", (long long)done,
                (long long)done + 1);
    std::printf("validation %s: %.1f%%\n", trainee->measure(), 100 * trainee->accuracy(validation));
    return 0;
  }

  course::Progress progress(
      {.label = c.model + " " + c.task, .epochs = c.epochs - done, .steps_per_epoch = c.steps_per_epoch});
  const int64_t tokens = c.batch_size * c.seq_length;
  for (int64_t epoch = done; epoch < c.epochs; ++epoch) {
    for (int64_t i = 0; i < c.steps_per_epoch; ++i) {
      const uint64_t step = uint64_t(epoch * c.steps_per_epoch + i);
      for (size_t d = 0; d < dropouts.size(); ++d)
        dropouts[d]->generator() = Generator(mix(mix(c.seed, step), d));
      const Examples batch = draw(c, c.batch_size, mix(c.seed, step));
      adam.zero_grad();
      Variable loss = trainee->loss(batch);
      loss.backward();
      nn::clip_grad_norm(model.parameters(), 1.0);
      adam.step();
      progress.step(loss.item(), tokens);
    }
    char note[96];
    std::snprintf(note, sizeof note, "validation %s %.1f%%", trainee->measure(),
                  100 * trainee->accuracy(validation));
    save_checkpoint(c, model, adam, epoch + 1);
    progress.end_epoch(note);
  }
  progress.finish();
  std::printf("checkpoint: %s (resume with --load %s --epochs %lld)\n", c.save_path.c_str(),
              c.save_path.c_str(), (long long)c.epochs + 1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Config config = train::parse_flags(argc, argv);
    if (config.interactive) train::ask(config, std::cin, std::cout);
    return run(config);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "heed-train: %s\n", e.what());
    return 1;
  }
}
