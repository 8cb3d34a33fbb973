// Lesson 16: interpreting attention.
//
// Attention weights are easy to draw, so they are drawn everywhere, often as
// "what the model looked at". This lesson trains a small Transformer on a
// task whose answer lives in two known tokens, then asks three questions:
//
//   1. where does the information go? Raw attention shows one layer's mixing;
//      attention rollout (Abnar & Zuidema 2020) chains all the layers, the
//      residual stream included.
//   2. which heads matter? Switch one head off (ablation, Michel et al. 2019)
//      and measure what the model loses.
//   3. when do weights mislead? Shuffle them (Jain & Wallace 2019), erase the
//      tokens they favour or neglect, and see whether the prediction moves.
//
// The task is lesson 12's local cue (lessons/common/tasks.h): 8 to 16 tokens,
// among them one adjacent pair "1 2" (label 1) or "2 1" (label 0); every other
// token is a distractor. A class token [cls] sits in front and the label is
// read from its output, so "what [cls] attends to" is the explanation the
// model would be credited with, and we know which tokens it should name.
//
// Run it: build/lessons/lesson_16 (--quick: fewer training steps).
#include "lessons/common/lesson.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/16_interpreting/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/heatmap.h"
#include "lessons/common/progress.h"
#include "lessons/common/svg.h"
#include "lessons/common/tasks.h"
#include "nn/nn.h"

using namespace heed;

namespace {

constexpr int64_t kVocab = 20;           // 0 padding, 1 and 2 the cue, 3..19 distractors
constexpr int64_t kClsId = kVocab;       // the class token, a row of its own
constexpr int64_t kWidth = 16;           // the longest sequence
constexpr int64_t kTokens = kWidth + 1;  // T: [cls] and the sequence
constexpr int64_t kDim = 32, kHeads = 4, kLayers = 2;

// ------------------------------------------------------------- the model
// ids (B, 16) -> [cls] ids: (B, T) -> embeddings + learned positions: (B, T, D)
// -> 2 pre-norm encoder layers -> LayerNorm -> the [cls] row -> Linear: (B, 2).
//
// The layers are nn::TransformerEncoderLayer, but the model runs their parts
// itself (norm1, self_attn, norm2, linear1, linear2: exactly what the layer's
// own forward does) so that it can keep every attention matrix and, when
// asked, replace one before it is used.
struct Pass {
  Variable logits;                // (B, 2)
  std::vector<Variable> weights;  // per layer: (B, H, T, T)
};

// Given layer l and its weights (B, H, T, T), the weights the layer should use instead.
using WeightEdit = std::function<Variable(int64_t layer, const Variable& weights)>;

// The heads' outputs from given weights, through mha's value and output
// projections: h: (B, T, D), weights: (B, H, T, T) -> (B, T, D).
Variable attend_with(nn::MultiHeadAttention& mha, const Variable& h, const Variable& weights) {
  const int64_t B = h.size(0), T = h.size(1);
  const Variable v = transpose(view(mha.v_proj->forward(h), {B, T, kHeads, kDim / kHeads}), 1, 2);
  return mha.out_proj->forward(reshape(transpose(matmul(weights, v), 1, 2), {B, T, kDim}));
}

class CueClassifier : public nn::Module {
 public:
  explicit CueClassifier(uint64_t seed) : Module("CueClassifier") {
    Generator gen(seed);
    embed = register_module(
        "embed",
        std::make_shared<nn::Embedding>(
            nn::EmbeddingOptions{.num_embeddings = kVocab + 1, .embedding_dim = kDim, .padding_idx = 0},
            gen));
    positions = register_module(
        "positions",
        std::make_shared<nn::LearnedPositionalEmbedding>(
            nn::LearnedPositionalEmbeddingOptions{.embedding_dim = kDim, .max_length = kTokens}, gen));
    for (int64_t l = 0; l < kLayers; ++l)
      layers.push_back(register_module("layers_" + std::to_string(l),
                                       std::make_shared<nn::TransformerEncoderLayer>(
                                           nn::TransformerEncoderLayerOptions{.d_model = kDim,
                                                                              .nhead = kHeads,
                                                                              .dim_feedforward = 64,
                                                                              .dropout = 0.0f,
                                                                              .norm_first = true},
                                           gen)));
    norm = register_module("norm",
                           std::make_shared<nn::LayerNorm>(nn::LayerNormOptions{.normalized_shape = kDim}));
    classifier = register_module(
        "classifier",
        std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = kDim, .out_features = 2}, gen));
  }

  // ids: (B, 16) float ids, padding: (B, 16) 1 at padding.
  Pass forward(const Tensor& ids, const Tensor& padding, const WeightEdit& edit = nullptr) {
    const int64_t B = ids.size(0);
    const Tensor tokens = cat({full({B, 1}, float(kClsId)), ids}, 1);  // (B, T)
    const Tensor hidden = cat({zeros({B, 1}), padding}, 1);            // (B, T): [cls] is never padding
    Variable x = positions->forward(embed->forward(tokens));           // (B, T, D)
    Pass pass;
    for (int64_t l = 0; l < kLayers; ++l) {
      nn::TransformerEncoderLayer& layer = *layers[l];
      const Variable h = layer.norm1->forward(x);
      nn::Attention att = layer.self_attn->forward(h, {.key_padding = hidden});
      if (edit) {
        att.weights = edit(l, att.weights);
        att.output = attend_with(*layer.self_attn, h, att.weights);
      }
      pass.weights.push_back(att.weights);
      x = x + att.output;
      x = x + layer.linear2->forward(relu(layer.linear1->forward(layer.norm2->forward(x))));
    }
    pass.logits = classifier->forward(select(norm->forward(x), 1, 0));  // the [cls] row: (B, D) -> (B, 2)
    return pass;
  }

  // The same through the library's own layer forwards (no weights kept).
  Variable forward_by_layers(const Tensor& ids, const Tensor& padding) {
    const int64_t B = ids.size(0);
    const Tensor tokens = cat({full({B, 1}, float(kClsId)), ids}, 1);
    const Tensor hidden = cat({zeros({B, 1}), padding}, 1);
    Variable x = positions->forward(embed->forward(tokens));
    for (auto& layer : layers) x = layer->forward(x, {.key_padding = hidden});
    return classifier->forward(select(norm->forward(x), 1, 0));
  }

  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::LearnedPositionalEmbedding> positions;
  std::vector<std::shared_ptr<nn::TransformerEncoderLayer>> layers;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Linear> classifier;
};

// ------------------------------------------------------------- measuring
struct Score {
  double accuracy = 0, loss = 0;
  Tensor predicted;  // (B,) class ids
  Tensor probs;      // (B, 2)
};

Score score(CueClassifier& model, const course::CueTask& data, const WeightEdit& edit = nullptr) {
  NoGradGuard no_grad;
  const Pass pass = model.forward(data.ids, data.padding, edit);
  Score s;
  s.predicted = argmax(pass.logits.value(), 1);
  s.probs = softmax(pass.logits.value(), -1);
  s.accuracy = mean(eq(s.predicted, data.labels)).item();
  s.loss = cross_entropy(pass.logits, data.labels).item();
  return s;
}

// Positions (in the T tokens, [cls] = 0) of the cue pair of example b.
std::pair<int64_t, int64_t> cue_positions(const course::CueTask& data, int64_t b) {
  const float* ids = data.ids.data() + b * kWidth;
  for (int64_t t = 0; t + 1 < kWidth; ++t)
    if ((ids[t] == 1 && ids[t + 1] == 2) || (ids[t] == 2 && ids[t + 1] == 1)) return {t + 1, t + 2};
  return {-1, -1};
}

int64_t length_of(const course::CueTask& data, int64_t b) {
  int64_t n = 0;
  for (int64_t t = 0; t < kWidth; ++t) n += data.padding.data()[b * kWidth + t] == 0;
  return n;
}

// How the plots name the tokens: "cls", the cue as 1 and 2, the distractors
// 3..19 as the letters a..q (one character each, so the terminal's columns stay narrow).
std::vector<std::string> token_labels(const course::CueTask& data, int64_t b) {
  std::vector<std::string> labels{"cls"};
  for (int64_t t = 0; t < length_of(data, b); ++t) {
    const int id = int(data.ids.data()[b * kWidth + t]);
    labels.push_back(id <= 2 ? std::to_string(id) : std::string(1, char('a' + id - 3)));
  }
  return labels;
}

// "L2 h3": head 3 of layer 2 (layers counted from 1, heads from 0).
std::string head_name(int64_t layer, int64_t head) {
  char name[32];
  std::snprintf(name, sizeof name, "L%lld h%lld", (long long)layer + 1, (long long)head);
  return name;
}

// The mean over heads of layer weights (B, H, T, T) -> (B, T, T).
Tensor head_mean(const Variable& w) { return mean(w.value(), {1}); }

// Row 0 (what [cls] reads) of rollout, propagated from the top down, one
// vector at a time: r = e_0;  r <- r Â_l  for l = L-1 .. 0. (B, T).
// Â_l is the head mean plus the identity, rows renormalized (exercise 1).
Tensor cls_rollout(const std::vector<Variable>& weights) {
  const int64_t B = weights[0].size(0);
  Tensor r = zeros({B, 1, kTokens});
  for (int64_t b = 0; b < B; ++b) r.at({b, 0, 0}) = 1;
  for (int64_t l = int64_t(weights.size()) - 1; l >= 0; --l) {
    Tensor a = clone(head_mean(weights[l]));  // (B, T, T)
    float* p = a.data();
    for (int64_t row = 0; row < B * kTokens; ++row) {
      float* w = p + row * kTokens;
      w[row % kTokens] += 1.0f;  // the residual: each token keeps itself
      const float total = std::accumulate(w, w + kTokens, 0.0f);
      for (int64_t j = 0; j < kTokens; ++j) w[j] /= total;
    }
    r = matmul(r, a);  // (B, 1, T)(B, T, T) -> (B, 1, T)
  }
  return reshape(r, {B, kTokens});
}

// How much of each row of `rows` (B, T) falls on the cue pair, averaged over
// the examples, and how often its largest entry (past [cls]) is a cue token.
struct CueMass {
  double mass = 0, top_is_cue = 0;
};
CueMass cue_mass(const Tensor& rows, const course::CueTask& data, bool skip_cls) {
  const Tensor r = contiguous(rows);
  const int64_t B = r.size(0);
  CueMass m;
  for (int64_t b = 0; b < B; ++b) {
    const float* w = r.data() + b * kTokens;
    const auto [i, j] = cue_positions(data, b);
    m.mass += w[i] + w[j];
    const int64_t from = skip_cls ? 1 : 0;
    const int64_t top = std::max_element(w + from, w + kTokens) - w;
    m.top_is_cue += top == i || top == j;
  }
  m.mass /= double(B);
  m.top_is_cue /= double(B);
  return m;
}

// Mean over the examples of `values` (B, T) restricted to the rows that are
// visible queries (`all_rows`) or to row 0 ([cls]) only, per head:
// per_head(weights (B, H, T, ...)) -> (H,) means. `of` gives one row's number.
std::vector<double> per_head_mean(const Tensor& by_row, const course::CueTask& data, bool cls_only) {
  const Tensor v = contiguous(by_row);  // (B, H, T)
  const int64_t B = v.size(0), H = v.size(1);
  std::vector<double> out(H, 0.0);
  for (int64_t h = 0; h < H; ++h) {
    double total = 0;
    int64_t count = 0;
    for (int64_t b = 0; b < B; ++b) {
      const int64_t rows = cls_only ? 1 : length_of(data, b) + 1;
      for (int64_t i = 0; i < rows; ++i, ++count) total += v.data()[(b * H + h) * kTokens + i];
    }
    out[h] = total / double(count);
  }
  return out;
}

// (B, T): log of the number of keys each sequence shows its queries ([cls] too).
Tensor log_visible(const course::CueTask& data) {
  const int64_t B = data.ids.size(0);
  std::vector<float> v(B);
  for (int64_t b = 0; b < B; ++b) v[b] = float(std::log(double(length_of(data, b) + 1)));
  return from_vector(v, {B, 1, 1});
}

// The weights with each chosen row's entries shuffled among the keys the
// sequence shows (hidden keys stay 0): row 0 ([cls]) only, or every visible
// query. weights: (B, H, T, T) -> the same shape, a constant.
Variable shuffle_rows(const Variable& weights, const course::CueTask& data, bool every_row, Generator& gen) {
  Tensor w = clone(weights.value());
  const int64_t B = w.size(0), H = w.size(1);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t visible = length_of(data, b) + 1;  // [cls] and the tokens: keys 0 .. visible-1
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < (every_row ? visible : 1); ++i) {
        float* row = w.data() + ((b * H + h) * kTokens + i) * kTokens;
        for (int64_t j = visible - 1; j > 0; --j) std::swap(row[j], row[gen.randint(j + 1)]);
      }
  }
  return Variable(w);
}

// Row 0 of every head replaced by the uniform 1/n over the n visible keys.
Variable uniform_cls_row(const Variable& weights, const course::CueTask& data) {
  Tensor w = clone(weights.value());
  const int64_t B = w.size(0), H = w.size(1);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t visible = length_of(data, b) + 1;
    for (int64_t h = 0; h < H; ++h) {
      float* row = w.data() + (b * H + h) * kTokens * kTokens;
      for (int64_t j = 0; j < kTokens; ++j) row[j] = j < visible ? 1.0f / float(visible) : 0.0f;
    }
  }
  return Variable(w);
}

// What an intervention did to the predictions: accuracy, the share of
// predictions that changed, and the mean |change| of p(label 1).
struct Effect {
  double accuracy = 0, changed = 0, shift = 0;
};
Effect effect(const Score& before, const Score& after) {
  return {after.accuracy, mean(ne(before.predicted, after.predicted)).item(),
          mean(abs(select(after.probs, 1, 1) - select(before.probs, 1, 1))).item()};
}
}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 16, .topic = "interpreting", .title = "interpreting attention"},
      [](const course::Lesson& lesson) {
        // ------------------------------------------------------------------
        lesson.section(1, "a model whose answer we can check");
        // The label is decided by two adjacent tokens; every other token is
        // noise. A sound explanation of a prediction should point at the pair.
        // (The plots show the cue as 1 and 2 and the distractors as letters.)
        Generator data_gen(lesson.seed() + 16);
        const course::CueTask test =
            course::local_cue_task(lesson.pick<int64_t>(1000, 2000), data_gen, kVocab, kWidth);
        CueClassifier model(lesson.seed() + 160);
        std::printf("  [cls] + up to %lld tokens, %lld layers of %lld heads, D = %lld: %lld parameters\n",
                    (long long)kWidth, (long long)kLayers, (long long)kHeads, (long long)kDim,
                    (long long)model.num_parameters());
        const int64_t steps = lesson.pick<int64_t>(600, 1500), batch = 64, per_epoch = 100;
        {
          nn::Adam optimizer(model.named_parameters(), {.lr = 3e-3});
          course::Progress progress(
              {.label = "training", .epochs = steps / per_epoch, .steps_per_epoch = per_epoch});
          Generator train_gen(lesson.seed() + 161);
          for (int64_t step = 0; step < steps; ++step) {
            const course::CueTask b = course::local_cue_task(batch, train_gen, kVocab, kWidth);
            Variable loss = cross_entropy(model.forward(b.ids, b.padding).logits, b.labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            progress.step(loss.item(), batch * kTokens);
            if ((step + 1) % per_epoch == 0) {
              char note[48];
              std::snprintf(note, sizeof note, "test acc %.1f%%", 100 * score(model, test).accuracy);
              progress.end_epoch(note);
            }
          }
        }
        const Score base = score(model, test);
        std::printf("\n  test accuracy %.1f%%, loss %.4f on %lld held-out sequences\n", 100 * base.accuracy,
                    base.loss, (long long)test.labels.numel());
        HEED_CHECK(base.accuracy >= lesson.pick(0.9, 0.97), "the classifier reached only ",
                   100 * base.accuracy, "% test accuracy");

        // ------------------------------------------------------------------
        lesson.section(2, "what [cls] attends to");
        // The model runs each encoder layer's parts itself (CueClassifier::forward)
        // to keep the weights; first, proof that this is the library's layer:
        {
          NoGradGuard no_grad;
          const Tensor ours = model.forward(test.ids, test.padding).logits.value(),
                       library = model.forward_by_layers(test.ids, test.padding).value();
          std::printf("  max |logits - nn::TransformerEncoderLayer's logits| = %.1e\n",
                      double(amax(abs(ours - library)).item()));
        }
        // Row 0 of each layer's weights, per head: how [cls] mixed the tokens
        // at that layer. (B, H, T, T) -> row 0 -> (H, T) for one sequence.
        // The sequence shown: the first of 12 tokens or more whose cue is inside, not at an end.
        int64_t example = 0;
        while (example + 1 < test.labels.numel() &&
               !(length_of(test, example) >= 12 && cue_positions(test, example).first > 2 &&
                 cue_positions(test, example).second < length_of(test, example) - 1))
          ++example;
        const std::vector<std::string> tokens = token_labels(test, example);
        const int64_t n = int64_t(tokens.size());
        Pass pass;
        {
          NoGradGuard no_grad;
          pass = model.forward(test.ids, test.padding);
        }
        const auto [cue_i, cue_j] = cue_positions(test, example);
        std::printf("  test sequence %lld: label %d, the cue at tokens %lld and %lld ([cls] is token 0)\n",
                    (long long)example, int(test.labels.data()[example]), (long long)cue_i, (long long)cue_j);
        {
          std::vector<Tensor> rows;
          std::vector<std::string> row_labels;
          for (int64_t l = 0; l < kLayers; ++l)
            for (int64_t h = 0; h < kHeads; ++h) {
              rows.push_back(
                  narrow(select(select(select(pass.weights[l].value(), 0, example), 0, h), 0, 0), 0, 0, n));
              row_labels.push_back(head_name(l, h));
            }
          const Tensor heads = stack(rows, 0);  // (L H, n)
          course::print_heatmap(
              std::cout, heads,
              {.title = "[cls]'s attention, every head", .row_labels = row_labels, .col_labels = tokens});
          const std::string path = lesson.figure(
              "cls_attention",
              "each head's [cls] row on one test sequence: which heads sit on the cue pair (1 2 or 2 1)");
          course::write_heatmap_svg(path, heads,
                                    {.title = "what [cls] attends to, per layer and head (one test sequence)",
                                     .row_labels = row_labels,
                                     .col_labels = tokens,
                                     .x_label = "key token",
                                     .y_label = "layer and head",
                                     .low = 0,
                                     .high = 1});
          std::printf("  figure: %s\n", path.c_str());
        }

        // ------------------------------------------------------------------
        lesson.section(3, "sharp heads and diffuse heads: the entropy of a row");
        // A row's entropy, H_i = -sum_j w_ij log w_ij (exercise 3), is 0 when it
        // puts everything on one key and log n when it spreads evenly over n.
        // Divided by log n (n: the keys the sequence shows) it reads from 0 (one
        // key) to 1 (uniform). Per head, averaged over the test set, for the
        // [cls] row and for every visible row:
        std::vector<std::vector<double>> cls_entropy(kLayers);
        {
          std::printf("  %-8s %18s %18s\n", "head", "[cls] row H/log n", "all rows H/log n");
          for (int64_t l = 0; l < kLayers; ++l) {
            const Tensor w = pass.weights[l].value();
            // The formula with tensor ops; max(w, 1e-30) keeps log(0) out of it.
            const Tensor entropy = -sum(w * log(maximum(w, scalar(1e-30f))), {-1}) / log_visible(test);
            cls_entropy[l] = per_head_mean(entropy, test, true);
            const std::vector<double> all = per_head_mean(entropy, test, false);
            for (int64_t h = 0; h < kHeads; ++h)
              std::printf("  L%lld h%lld %18.3f %18.3f\n", (long long)l + 1, (long long)h, cls_entropy[l][h],
                          all[h]);
          }
        }
        // Your attention_entropy against that formula on layer 2's weights of 8
        // sequences, then its backward. The formula's own gradient at a hidden
        // key (w = 0) is -(log 1e-30 + 0) = 69, a number with no meaning; yours
        // is 0 there, so the gradients are compared where w > 0.
        {
          const Tensor w = clone(narrow(pass.weights[1].value(), 0, 0, 8));  // (8, H, T, T)
          Variable theirs(w, true), mine(w, true);
          Variable heeds = -sum(theirs * log(maximum(theirs, Variable(scalar(1e-30f)))), {-1});
          Generator g(5);
          const Tensor upstream = randn(heeds.shape(), g);
          sum(heeds * Variable(upstream)).backward();
          const Tensor visible = gt(w, scalar(0.0f));
          Variable yours;
          if (course::compare_exercise(
                  lesson, 3, "attention_entropy forward",
                  [&] {
                    yours = lesson16::attention_entropy(mine);
                    return yours.value();
                  },
                  heeds.value(), 1e-4))
            course::compare_exercise(
                lesson, 3, "attention_entropy d/dweights where w > 0",
                [&] {
                  sum(yours * Variable(upstream)).backward();
                  return mine.grad() * visible;
                },
                theirs.grad() * visible, 1e-3);
        }

        // ------------------------------------------------------------------
        lesson.section(4, "attention rollout: following the tokens through the layers");
        // Layer 2's [cls] row says which positions [cls] read at layer 2, but by
        // then every position holds a mixture made by layer 1, and the residual
        // connections carry each position's own value around every attention.
        // Rollout (Abnar & Zuidema 2020) models both: a layer mixes by
        //   Â_l = (mean_h W_l + I) / rowsum(mean_h W_l + I)     (B, T, T)
        // (half attention, half "keep yourself"), and the layers compose:
        //   rollout = Â_2 Â_1: row 0 says how much of each input token reaches [cls].
        // The lesson computes only row 0, from the top down: r = e_0 Â_2 Â_1
        // (cls_rollout); exercise 1 builds the whole (B, T, T) matrix.
        const Tensor rollout_rows = cls_rollout(pass.weights);  // (B, T)
        {
          std::vector<Tensor> rows;
          for (int64_t l = 0; l < kLayers; ++l)
            rows.push_back(narrow(select(select(head_mean(pass.weights[l]), 0, example), 0, 0), 0, 0, n));
          rows.push_back(narrow(select(rollout_rows, 0, example), 0, 0, n));
          const Tensor m = stack(rows, 0);
          const std::vector<std::string> labels{"layer 1", "layer 2", "rollout"};
          course::print_heatmap(std::cout, m,
                                {.title = "[cls]'s row: each layer (mean of heads) and the rollout",
                                 .row_labels = labels,
                                 .col_labels = tokens});
          const std::string path = lesson.figure("rollout",
                                                 "[cls]'s row per layer and rolled out through both: rollout "
                                                 "keeps a share on [cls] itself (the residual path)");
          course::write_heatmap_svg(path, m,
                                    {.title = "[cls]'s row of raw attention (mean of heads) and of rollout",
                                     .row_labels = labels,
                                     .col_labels = tokens,
                                     .x_label = "input token",
                                     .y_label = "explanation",
                                     .low = 0,
                                     .high = 1});
          std::printf("  figure: %s\n", path.c_str());
        }
        // Over the whole test set: how much of [cls]'s row lands on the cue pair,
        // and how often its heaviest token (past [cls] itself) is a cue token.
        // Spread evenly, the pair would get 2 / (n + 1) of it.
        {
          double chance = 0;
          for (int64_t b = 0; b < test.labels.numel(); ++b) chance += 2.0 / double(length_of(test, b) + 1);
          chance /= double(test.labels.numel());
          std::printf("\n  %-28s %16s %16s %16s\n", "[cls]'s row", "on the cue pair", "top is a cue",
                      "on [cls]");
          auto line = [&](const char* name, const Tensor& rows) {
            const CueMass m = cue_mass(rows, test, true);
            std::printf("  %-28s %16.3f %15.1f%% %16.3f\n", name, m.mass, 100 * m.top_is_cue,
                        double(mean(select(rows, 1, 0)).item()));
          };
          line("layer 1, mean of heads", select(head_mean(pass.weights[0]), 1, 0));
          line("layer 2, mean of heads", select(head_mean(pass.weights[1]), 1, 0));
          line("rollout", rollout_rows);
          std::printf("  %-28s %16.3f\n", "spread evenly", chance);
        }
        {
          std::vector<Tensor> layers;
          for (const Variable& w : pass.weights) layers.push_back(narrow(w.value(), 0, 0, 64));
          course::compare_exercise(
              lesson, 1, "attention rollout, row 0 of 64 sequences",
              [&] { return select(lesson16::attention_rollout(layers), 1, 0); },
              narrow(rollout_rows, 0, 0, 64), 1e-5);
        }

        // ------------------------------------------------------------------
        lesson.section(5, "which heads matter: ablation");
        // out_proj maps the heads laid side by side, (B, T, H Dh), to D; columns
        // h Dh .. (h + 1) Dh - 1 of its weight (D, H Dh) are the only road from
        // head h to the rest of the model. Zeroing them removes the head exactly
        // (Michel et al. 2019 mask heads the same way), at every position.
        auto ablate = [&](int64_t l, const std::vector<int64_t>& heads) {
          const Variable& weight = model.layers[l]->self_attn->out_proj->weight;
          const Tensor saved = clone(weight.value());
          {
            NoGradGuard no_grad;
            for (int64_t h : heads)
              fill_(narrow(weight.value(), 1, h * (kDim / kHeads), kDim / kHeads), 0.0f);
          }
          const Score s = score(model, test);
          copy_(weight.value(), saved);
          return s;
        };
        std::vector<course::Bar> bars;
        struct HeadRow {
          std::string name;
          double cue = 0, drop = 0;
        };
        std::vector<HeadRow> heads;  // the eight heads' [cls] share on the cue and accuracy cost
        std::printf("  %-14s %14s %12s %12s %12s\n", "head removed", "[cls] on cue", "H/log n", "accuracy",
                    "loss");
        std::printf("  %-14s %14s %12s %11.1f%% %12.4f\n", "none", "", "", 100 * base.accuracy, base.loss);
        for (int64_t l = 0; l < kLayers; ++l)
          for (int64_t h = 0; h < kHeads; ++h) {
            const Score s = ablate(l, {h});
            const std::string name = head_name(l, h);
            const CueMass m = cue_mass(select(select(pass.weights[l].value(), 2, 0), 1, h), test, true);
            std::printf("  %-14s %14.3f %12.3f %11.1f%% %12.4f\n", name.c_str(), m.mass, cls_entropy[l][h],
                        100 * s.accuracy, s.loss);
            bars.push_back({.label = name, .value = 100 * (base.accuracy - s.accuracy)});
            heads.push_back({name, m.mass, 100 * (base.accuracy - s.accuracy)});
          }
        for (int64_t l = 0; l < kLayers; ++l) {
          const Score s = ablate(l, {0, 1, 2, 3});
          char name[32];
          std::snprintf(name, sizeof name, "all of layer %lld", (long long)l + 1);
          std::printf("  %-14s %14s %12s %11.1f%% %12.4f\n", name, "", "", 100 * s.accuracy, s.loss);
          std::snprintf(name, sizeof name, "L%lld all", (long long)l + 1);
          bars.push_back({.label = name, .value = 100 * (base.accuracy - s.accuracy)});
        }
        {
          const std::string path = lesson.figure("head_ablation",
                                                 "accuracy lost when a head is removed: a few heads carry "
                                                 "the task, and the sharpest is not among them");
          course::write_bar_chart_svg(
              path, bars,
              {.title = "test accuracy lost when one head (or a layer's heads) is removed",
               .y_label = "accuracy drop (points)"});
          std::printf("  figure: %s\n", path.c_str());
        }
        // Your masked_heads_attention on layer 2's attention, heads (1, 0, 0.5, 1),
        // against the library's with out_proj's columns scaled the same way.
        {
          nn::MultiHeadAttention& mha = *model.layers[1]->self_attn;
          Generator g(7);
          const Tensor x = randn({3, kTokens, kDim}, g);
          const Tensor padding = cat({zeros({3, 1}), narrow(test.padding, 0, 0, 3)}, 1);
          const Tensor head_mask = Tensor{1.0f, 0.0f, 0.5f, 1.0f};
          const Tensor saved = clone(mha.out_proj->weight.value());
          nn::Attention heeds;
          {
            NoGradGuard no_grad;
            for (int64_t h = 0; h < kHeads; ++h)
              mul_(narrow(mha.out_proj->weight.value(), 1, h * (kDim / kHeads), kDim / kHeads),
                   head_mask.data()[h]);
            heeds = mha.forward(Variable(x), {.key_padding = padding});
          }
          copy_(mha.out_proj->weight.value(), saved);
          nn::Attention yours;
          if (course::compare_exercise(
                  lesson, 2, "masked_heads_attention output, heads (1, 0, 0.5, 1)",
                  [&] {
                    NoGradGuard no_grad;
                    yours = lesson16::masked_heads_attention(mha, Variable(x), head_mask, padding);
                    return yours.output.value();
                  },
                  heeds.output.value(), 1e-5))
            course::compare_exercise(
                lesson, 2, "masked_heads_attention weights", [&] { return yours.weights.value(); },
                heeds.weights.value(), 1e-6);
        }

        // ------------------------------------------------------------------
        lesson.section(6, "where attention explanations mislead");
        // Jain & Wallace (2019): if weights explain a prediction, other weights
        // should give another prediction. On text classifiers (a recurrent
        // encoder under one attention layer) they found that shuffled weights
        // mostly left the prediction where it was; Wiegreffe & Pinter (2019)
        // answered that how much weights matter depends on the task and model.
        // Here the label sits in two tokens, so it is a fair test: shuffle each
        // head's [cls] row among the visible keys (the same values on other
        // tokens), or flatten it, and count the predictions that change.
        double shuffled_both = 0;
        {
          Generator g(lesson.seed() + 60);
          std::printf("  %-40s %10s %10s %14s\n", "intervention", "accuracy", "changed", "mean |dp|");
          auto row = [&](const char* name, const WeightEdit& edit) {
            const Effect e = effect(base, score(model, test, edit));
            std::printf("  %-40s %9.1f%% %9.1f%% %14.3f\n", name, 100 * e.accuracy, 100 * e.changed, e.shift);
            return e;
          };
          auto in_layer = [](int64_t layer, std::function<Variable(const Variable&)> f) -> WeightEdit {
            return [layer, f](int64_t l, const Variable& w) { return l == layer ? f(w) : w; };
          };
          row("none", nullptr);
          row("layer 1: [cls] rows shuffled",
              in_layer(0, [&](const Variable& w) { return shuffle_rows(w, test, false, g); }));
          row("layer 2: [cls] rows shuffled",
              in_layer(1, [&](const Variable& w) { return shuffle_rows(w, test, false, g); }));
          row("layer 2: [cls] rows uniform",
              in_layer(1, [&](const Variable& w) { return uniform_cls_row(w, test); }));
          row("layer 1: every row shuffled",
              in_layer(0, [&](const Variable& w) { return shuffle_rows(w, test, true, g); }));
          row("layer 2: every row shuffled",
              in_layer(1, [&](const Variable& w) { return shuffle_rows(w, test, true, g); }));
          shuffled_both = row("both layers: [cls] rows shuffled", [&](int64_t, const Variable& w) {
                            return shuffle_rows(w, test, false, g);
                          }).changed;
        }
        // A weight is not an effect, but it may rank effects. Take layer 2's
        // [cls] row (mean of heads), the picture usually drawn, and per sequence
        // erase (replace by a random distractor) the cue token it weighs more,
        // the one it weighs less, and the distractor it weighs most. Without
        // its cue a sequence has no right answer: what is counted is whether the
        // model's answer moves.
        double erased_changed[3] = {};
        {
          const Tensor w2 = contiguous(select(head_mean(pass.weights[1]), 1, 0));  // (B, T)
          const int64_t B = test.labels.numel();
          Generator g(lesson.seed() + 61);
          std::printf("\n  %-36s %18s %12s\n", "token erased", "its layer 2 weight", "changed");
          for (int which = 0; which < 3; ++which) {
            course::CueTask erased{clone(test.ids), test.padding, test.labels};
            double weight = 0;
            for (int64_t b = 0; b < B; ++b) {
              const float* w = w2.data() + b * kTokens;
              auto [i, j] = cue_positions(test, b);
              if (w[i] < w[j]) std::swap(i, j);  // i: the heavier cue token
              int64_t t = which == 0 ? i : j;
              if (which == 2) {
                t = -1;
                for (int64_t k = 1; k <= length_of(test, b); ++k)
                  if (k != i && k != j && (t < 0 || w[k] > w[t])) t = k;
              }
              weight += w[t];
              float& id = erased.ids.data()[b * kWidth + t - 1];
              const float old = id;
              while (id == old) id = float(3 + g.randint(kVocab - 3));
            }
            const Effect e = effect(base, score(model, erased));
            const char* names[3] = {"the cue token it weighs more", "the cue token it weighs less",
                                    "the distractor it weighs most"};
            std::printf("  %-36s %18.3f %11.1f%%\n", names[which], weight / double(B), 100 * e.changed);
            erased_changed[which] = 100 * e.changed;
          }
        }
        // What these numbers say for this run (they are seeded: every run with
        // the same --seed prints the same ones).
        {
          // A head's [cls] row is one of its T rows: a head may do its work in
          // the rows of other tokens (a cue token reading its neighbour), or
          // duplicate another head's work, and its [cls] row says neither.
          auto list = [&](bool looking) {
            std::string lines;
            for (const HeadRow& h : heads)
              if (looking ? h.cue > 0.5 && h.drop < 1 : h.cue < 0.5 && h.drop > 5) {
                char line[96];
                std::snprintf(line, sizeof line, "      %s: %.2f of its [cls] row on the cue, %.1f points\n",
                              h.name.c_str(), h.cue, h.drop);
                lines += line;
              }
            return lines.empty() ? std::string("      none\n") : lines;
          };
          std::printf(
              "\n  - heads whose [cls] row is mostly on the cue, yet removing one costs under 1 point:\n%s",
              list(true).c_str());
          std::printf(
              "  - heads whose [cls] row is mostly elsewhere, yet removing one costs over 5 points:\n%s",
              list(false).c_str());
          std::printf("  - shuffling [cls]'s weights in both layers changed %.1f%% of the predictions%s\n",
                      100 * shuffled_both,
                      shuffled_both > 0.2
                          ? ": here the weights are not interchangeable"
                          : ": the weights were nearly interchangeable, as Jain & Wallace found");
          const bool ordered =
              erased_changed[0] >= erased_changed[1] && erased_changed[1] >= erased_changed[2];
          std::printf(
              "  - erasing the heavier cue token, the lighter one and the heaviest distractor changed "
              "%.1f%%, "
              "%.1f%% and %.1f%%:\n    %s\n",
              erased_changed[0], erased_changed[1], erased_changed[2],
              ordered ? "for tokens, the order of the weights was the order of the effects"
                      : "for tokens, the order of the weights was not the order of the effects");
        }
      });
}
