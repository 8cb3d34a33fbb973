// Lesson 17: attention on images, a tiny Vision Transformer.
//
// A Transformer reads a sequence of vectors; nothing in it says the vectors
// came from words. Dosovitskiy et al. (2021) cut an image into square
// patches, made each patch a token with one Linear, put a learned class token
// in front, added learned positions, and ran a plain encoder: the class
// token's final state is the image's label. This lesson builds that at toy
// scale:
//
//   image (16, 16) -> 16 patches of 4 x 4 -> Linear 16 -> D: (16, D)
//   [cls ; patches] + positions: (17, D) -> 2 encoder layers -> cls row -> Linear: 5 classes
//
// The images are made in code: five kinds of stroke (a horizontal bar, a
// vertical bar, a cross, a square outline, a diagonal) of random size and
// place on a noisy, cluttered 16 x 16 canvas. The ViT races an MLP on the raw 256
// pixels with as many parameters, and we look at what the class token
// attends to, drawn over the image.
//
// Run it: build/lessons/lesson_17 (--quick: a smaller training set, fewer epochs).
#include "lessons/common/lesson.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/17_vit/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/heatmap.h"
#include "lessons/common/progress.h"
#include "lessons/common/svg.h"
#include "nn/nn.h"

using namespace heed;

namespace {

constexpr int64_t kSide = 16, kPatch = 4, kGrid = kSide / kPatch;  // 16 x 16 pixels, a 4 x 4 grid of patches
constexpr int64_t kPatches = kGrid * kGrid, kTokens = kPatches + 1;
constexpr int64_t kPixels = kSide * kSide, kPatchPixels = kPatch * kPatch;
constexpr int64_t kDim = 32, kHeads = 4, kLayers = 2, kClasses = 5;
const char* const kClassNames[kClasses] = {"horizontal bar", "vertical bar", "cross", "square", "diagonal"};

// ------------------------------------------------------------- the images
// One image: a stroke of class `kind` at a random place and size, drawn with
// a random ink in [0.6, 1], three specks of clutter, and Gaussian noise (sd
// 0.1) over everything, clipped to [0, 1].
// `ink` marks the stroke's pixels (1) before the noise: where the shape is.
struct Image {
  std::vector<float> pixels, ink;  // kPixels each, row-major
};

Image draw(int kind, Generator& gen) {
  Image im{std::vector<float>(kPixels, 0.0f), std::vector<float>(kPixels, 0.0f)};
  auto paint = [&](int64_t y, int64_t x) {
    if (y >= 0 && y < kSide && x >= 0 && x < kSide) im.ink[y * kSide + x] = 1;
  };
  auto at = [&](int64_t lo, int64_t hi) { return lo + gen.randint(hi - lo + 1); };  // uniform in [lo, hi]
  switch (kind) {
    case 0:
    case 1: {  // a bar 6..12 long, 1 or 2 thick; the vertical one is the horizontal one transposed
      const int64_t length = at(6, 12), thick = at(1, 2);
      const int64_t y = at(0, kSide - thick), x = at(0, kSide - length);
      for (int64_t i = 0; i < thick; ++i)
        for (int64_t j = 0; j < length; ++j) kind == 0 ? paint(y + i, x + j) : paint(x + j, y + i);
      break;
    }
    case 2: {  // a plus: arms 2..4 long from a centre that keeps them on the canvas
      const int64_t arm = at(2, 4), cy = at(arm, kSide - 1 - arm), cx = at(arm, kSide - 1 - arm);
      for (int64_t d = -arm; d <= arm; ++d) paint(cy + d, cx), paint(cy, cx + d);
      break;
    }
    case 3: {  // the outline of a square, sides 5..9
      const int64_t side = at(5, 9), y = at(0, kSide - side), x = at(0, kSide - side);
      for (int64_t d = 0; d < side; ++d)
        paint(y, x + d), paint(y + side - 1, x + d), paint(y + d, x), paint(y + d, x + side - 1);
      break;
    }
    default: {  // a diagonal 6..12 long, falling (\) or rising (/)
      const int64_t length = at(6, 12), y = at(0, kSide - length), x = at(0, kSide - length);
      const bool rising = gen.randint(2) == 1;
      for (int64_t d = 0; d < length; ++d) paint(y + d, rising ? x + length - 1 - d : x + d);
      break;
    }
  }
  // Clutter: three specks of 2 or 3 pixels (across, down or diagonal) anywhere.
  // They belong to no class, so a model must tell a stroke's shape from its
  // pieces, not only count bright pixels.
  std::vector<float> specks(kPixels, 0.0f);
  for (int c = 0; c < 3; ++c) {
    static constexpr int64_t dy[4] = {0, 1, 1, 1}, dx[4] = {1, 0, 1, -1};
    const int64_t y = at(0, kSide - 1), x = at(0, kSide - 1), dir = gen.randint(4), length = at(2, 3);
    for (int64_t d = 0; d < length; ++d) {
      const int64_t yy = y + d * dy[dir], xx = x + d * dx[dir];
      if (yy >= 0 && yy < kSide && xx >= 0 && xx < kSide)
        specks[yy * kSide + xx] = 0.6f + 0.4f * gen.uniform();
    }
  }
  const float ink = 0.6f + 0.4f * gen.uniform();
  for (int64_t k = 0; k < kPixels; ++k)
    im.pixels[k] = std::clamp(std::max(im.ink[k] * ink, specks[k]) + 0.1f * gen.normal(), 0.0f, 1.0f);
  return im;
}

struct Images {
  Tensor pixels;  // (B, 16, 16)
  Tensor ink;     // (B, 16, 16): 1 where the stroke is
  Tensor labels;  // (B,) class ids as floats
};

// n images, the classes in turn (so every class has n / 5 of them).
Images make_images(int64_t n, Generator& gen) {
  std::vector<float> pixels, ink, labels;
  for (int64_t i = 0; i < n; ++i) {
    const int kind = int(i % kClasses);
    const Image im = draw(kind, gen);
    pixels.insert(pixels.end(), im.pixels.begin(), im.pixels.end());
    ink.insert(ink.end(), im.ink.begin(), im.ink.end());
    labels.push_back(float(kind));
  }
  return {from_vector(pixels, {n, kSide, kSide}), from_vector(ink, {n, kSide, kSide}),
          from_vector(labels, {n})};
}

Images take(const Images& from, const Tensor& index) {
  return {index_select(from.pixels, 0, index), index_select(from.ink, 0, index),
          index_select(from.labels, 0, index)};
}

// Shades for values in [0, 1], two characters a pixel.
const char* shade(double v) {
  static const char* const shades[5] = {"  ", "░░", "▒▒", "▓▓", "██"};
  return shades[std::clamp(int(v * 5), 0, 4)];
}

// ------------------------------------------------------------- patches
// The lesson's patchify, by gathering: pixel (r p + i, c p + j) goes to patch
// r (W / p) + c, place i p + j. The index (N p^2,) of flat pixel positions is
// built once; index_select then moves every image's pixels in one op.
// images: (B, 16, 16) -> (B, 16 patches, 16 pixels).
Tensor gather_patches(const Tensor& images) {
  static const Tensor index = [] {
    std::vector<float> at;
    for (int64_t r = 0; r < kGrid; ++r)
      for (int64_t c = 0; c < kGrid; ++c)
        for (int64_t i = 0; i < kPatch; ++i)
          for (int64_t j = 0; j < kPatch; ++j) at.push_back(float((r * kPatch + i) * kSide + c * kPatch + j));
    return from_vector(at, {kPixels});
  }();
  const int64_t B = images.size(0);
  return reshape(index_select(reshape(images, {B, kPixels}), 1, index), {B, kPatches, kPatchPixels});
}

// ------------------------------------------------------------- the ViT
struct Pass {
  Variable logits;                // (B, 5)
  std::vector<Variable> weights;  // per layer: (B, H, 17, 17)
};

class TinyViT : public nn::Module {
 public:
  explicit TinyViT(uint64_t seed) : Module("TinyViT") {
    Generator gen(seed);
    embed = register_module("embed",
                            std::make_shared<nn::Linear>(
                                nn::LinearOptions{.in_features = kPatchPixels, .out_features = kDim}, gen));
    cls = register_parameter("cls", normal({1, 1, kDim}, 0.0f, 0.02f, gen));
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
    // Positions start small, N(0, 0.02^2) as in Dosovitskiy et al., not at
    // LearnedPositionalEmbedding's N(0, 1), which would drown the patches'
    // content (quick mode: 66% test accuracy from N(0, 1), 86% from this).
    {
      NoGradGuard no_grad;
      mul_(positions->weight.value(), 0.02f);
    }
    norm = register_module("norm",
                           std::make_shared<nn::LayerNorm>(nn::LayerNormOptions{.normalized_shape = kDim}));
    head = register_module(
        "head",
        std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = kDim, .out_features = kClasses}, gen));
  }

  // The input sequence: patches (B, 16, 16) -> [cls ; embed(patches)] + positions: (B, 17, D).
  Variable tokens(const Tensor& patches) {
    const int64_t B = patches.size(0);
    return positions->forward(cat({expand(cls, {B, 1, kDim}), embed->forward(patches)}, 1));
  }

  // images: (B, 16, 16) -> logits (B, 5) and each layer's attention. The
  // layers' parts run here (what TransformerEncoderLayer's pre-norm forward
  // does) so that the weights are kept.
  Pass forward(const Tensor& images) {
    Variable x = tokens(gather_patches(images));
    Pass pass;
    for (auto& layer : layers) {
      nn::Attention att = layer->self_attn->forward(layer->norm1->forward(x));
      pass.weights.push_back(att.weights);
      x = x + att.output;
      x = x + layer->linear2->forward(relu(layer->linear1->forward(layer->norm2->forward(x))));
    }
    pass.logits = head->forward(select(norm->forward(x), 1, 0));  // the class token's row: (B, D)
    return pass;
  }

  // The same through the library's layer forwards.
  Variable forward_by_layers(const Tensor& images) {
    Variable x = tokens(gather_patches(images));
    for (auto& layer : layers) x = layer->forward(x);
    return head->forward(select(norm->forward(x), 1, 0));
  }

  std::shared_ptr<nn::Linear> embed;
  Variable cls;  // (1, 1, D)
  std::shared_ptr<nn::LearnedPositionalEmbedding> positions;
  std::vector<std::shared_ptr<nn::TransformerEncoderLayer>> layers;
  std::shared_ptr<nn::LayerNorm> norm;
  std::shared_ptr<nn::Linear> head;
};

// The MLP on raw pixels: 256 -> h -> h -> 5 with ReLUs, h chosen so that it
// has about as many parameters as the ViT (mlp_width).
std::unique_ptr<nn::Sequential> make_mlp(int64_t h, uint64_t seed) {
  Generator gen(seed);
  return std::make_unique<nn::Sequential>(nn::Linear({.in_features = kPixels, .out_features = h}, gen),
                                          nn::ReLU(), nn::Linear({.in_features = h, .out_features = h}, gen),
                                          nn::ReLU(),
                                          nn::Linear({.in_features = h, .out_features = kClasses}, gen));
}

int64_t mlp_parameters(int64_t h) { return kPixels * h + h + h * h + h + h * kClasses + kClasses; }

// The widest h whose MLP has no more parameters than `budget`.
int64_t mlp_width(int64_t budget) {
  int64_t h = 1;
  while (mlp_parameters(h + 1) <= budget) ++h;
  return h;
}

// ------------------------------------------------------------- training
using Forward = std::function<Variable(const Tensor& images)>;

double accuracy(const Forward& f, const Images& data) {
  NoGradGuard no_grad;
  return mean(eq(argmax(f(data.pixels).value(), 1), data.labels)).item();
}

struct Run {
  std::vector<double> test_accuracy;  // after each epoch
  double train_accuracy = 0, seconds = 0;
};

// Adam on minibatches of 64, reshuffled every epoch (seeded by the epoch, so
// both models see the same batches in the same order).
Run train(const Forward& f, nn::Module& model, double lr, const Images& train_set, const Images& test_set,
          int64_t epochs, const std::string& label) {
  const int64_t n = train_set.labels.numel(), batch = 64, steps = (n + batch - 1) / batch;
  nn::Adam optimizer(model.named_parameters(), {.lr = lr});
  course::Progress progress({.label = label, .epochs = epochs, .steps_per_epoch = steps});
  Run run;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    std::vector<float> order(n);
    std::iota(order.begin(), order.end(), 0.0f);
    Generator gen(1700 + epoch);
    for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen.randint(i + 1)]);
    for (int64_t start_at = 0; start_at < n; start_at += batch) {
      const int64_t size = std::min(batch, n - start_at);
      const Images b =
          take(train_set, from_vector({order.begin() + start_at, order.begin() + start_at + size}, {size}));
      Variable loss = cross_entropy(f(b.pixels), b.labels);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      progress.step(loss.item());
    }
    run.test_accuracy.push_back(accuracy(f, test_set));
    char note[48];
    std::snprintf(note, sizeof note, "test acc %.1f%%", 100 * run.test_accuracy.back());
    progress.end_epoch(note);
  }
  progress.finish();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  run.train_accuracy = accuracy(f, train_set);
  return run;
}

// ------------------------------------------------------------- looking
// Row 0 of the mean over heads, without the class token's own column,
// renormalized over the 16 patches: (B, H, 17, 17) -> (B, 16).
Tensor class_token_patches(const Variable& weights) {
  const Tensor row = narrow(select(mean(weights.value(), {1}), 1, 0), 1, 1, kPatches);
  return row / sum(row, {1}, true);
}

// Rollout's row 0 (lesson 16): r = e_0 Â_L ... Â_1, Â = (mean_h W + I) / rowsum.
// Then, like class_token_patches, its patch entries renormalized: (B, 16).
Tensor rollout_patches(const std::vector<Variable>& weights) {
  const int64_t B = weights[0].size(0);
  Tensor r = zeros({B, 1, kTokens});
  fill_(narrow(r, 2, 0, 1), 1.0f);
  Tensor eye = zeros({kTokens, kTokens});
  for (int64_t i = 0; i < kTokens; ++i) eye.at({i, i}) = 1;
  for (int64_t l = int64_t(weights.size()) - 1; l >= 0; --l) {
    const Tensor a = mean(weights[l].value(), {1}) + eye;
    r = matmul(r, a / sum(a, {-1}, true));
  }
  const Tensor row = narrow(reshape(r, {B, kTokens}), 1, 1, kPatches);
  return row / sum(row, {1}, true);
}

// Which patches hold any of the stroke: (B, 16, 16) ink -> (B, 16) of 0 / 1.
Tensor inked_patches(const Tensor& ink) { return gt(amax(gather_patches(ink), {2}), scalar(0.0f)); }

// The share of `patches` (B, 16) that falls on inked patches, averaged; and
// the share of patches that are inked (what an even spread would give).
std::pair<double, double> on_the_stroke(const Tensor& patches, const Tensor& ink) {
  const Tensor inked = inked_patches(ink);
  return {mean(sum(patches * inked, {1})).item(), mean(inked).item()};
}

// Two pictures side by side on the terminal: the image, and each pixel shaded
// by its patch's share of the class token's attention (scaled to the image's largest share).
void print_image_and_attention(const Tensor& image, const Tensor& patches, const std::string& caption) {
  const Tensor im = contiguous(image), p = contiguous(patches);
  const double top = amax(p).item(), bottom = -amax(-p).item();
  std::printf("  %s\n  %-34s  class token's attention (layer 2): shares %.3f to %.3f\n", caption.c_str(),
              "image", bottom, top);
  for (int64_t y = 0; y < kSide; ++y) {
    std::string left, right;
    for (int64_t x = 0; x < kSide; ++x) {
      left += shade(im.data()[y * kSide + x]);
      right += shade(p.data()[(y / kPatch) * kGrid + x / kPatch] / top);
    }
    std::printf("  |%s|  |%s|\n", left.c_str(), right.c_str());
  }
}

// The figure: one column per image; its image in grey (ink dark on white), and
// over it each patch tinted orange by its share of attention (opacity: share /
// the image's largest share), once for the last layer's raw attention and once
// for the rollout. Written by hand like svg.h's figures, to path.tmp, then renamed.
void write_attention_figure(const std::string& path, const Tensor& images, const std::vector<Tensor>& rows,
                            const std::vector<std::string>& row_names,
                            const std::vector<std::string>& captions) {
  constexpr int cell = 8, panel = kSide * cell, gap = 24, left = 90, top = 64, row_gap = 36;
  const int B = int(images.size(0)), R = int(rows.size());
  const int width = left + B * (panel + gap), height = top + R * (panel + row_gap) + 16;
  std::string s;
  char buffer[320];
  auto add = [&](const char* format, auto... values) {
    std::snprintf(buffer, sizeof buffer, format, values...);
    s += buffer;
  };
  add("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
      "font-family=\"sans-serif\">\n",
      width, height, width, height);
  s += "<title>what the ViT's class token attends to, drawn over the image</title>\n";
  add("<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", width, height);
  add("<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">What the class token attends to, per 4 "
      "x 4 "
      "patch</text>\n",
      left);
  add("<text x=\"%d\" y=\"40\" font-size=\"11\">orange opacity: the patch's share of the attention over the "
      "image's largest share (hover a patch for its share)</text>\n",
      left);
  const Tensor im = contiguous(images);
  for (int r = 0; r < R; ++r) {
    const Tensor share = contiguous(rows[r]);  // (B, 16)
    const int y0 = top + r * (panel + row_gap) + 14;
    add("<text x=\"8\" y=\"%d\" font-size=\"13\">%s</text>\n", y0 + panel / 2, row_names[r].c_str());
    for (int b = 0; b < B; ++b) {
      const int x0 = left + b * (panel + gap);
      if (r == 0)
        add("<text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n", x0, y0 - 6, captions[b].c_str());
      // The pixels: a group scaled to the cell size, one unit square each, ink dark on white.
      add("<g transform=\"translate(%d %d) scale(%d)\">\n", x0, y0, cell);
      for (int64_t y = 0; y < kSide; ++y)
        for (int64_t x = 0; x < kSide; ++x) {
          const int grey = int(std::lround(255 * (1 - 0.85 * im.data()[(b * kSide + y) * kSide + x])));
          add("<rect x=\"%lld\" y=\"%lld\" width=\"1\" height=\"1\" fill=\"#%02x%02x%02x\"/>\n", (long long)x,
              (long long)y, grey, grey, grey);
        }
      const float* v = share.data() + b * kPatches;
      const double largest = std::max(1e-12, double(*std::max_element(v, v + kPatches)));
      for (int64_t k = 0; k < kPatches; ++k)
        add("<rect x=\"%lld\" y=\"%lld\" width=\"%lld\" height=\"%lld\" fill=\"#ff7800\" "
            "fill-opacity=\"%.3f\" "
            "stroke=\"#c8c8c8\" stroke-width=\"0.06\"><title>patch %lld: %.3f of the "
            "attention</title></rect>\n",
            (long long)((k % kGrid) * kPatch), (long long)((k / kGrid) * kPatch), (long long)kPatch,
            (long long)kPatch, 0.7 * v[k] / largest, (long long)k, double(v[k]));
      s += "</g>\n";
    }
  }
  s += "</svg>\n";
  const std::string tmp = path + ".tmp";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    file << s;
    HEED_CHECK(file.good(), "cannot write the figure '", tmp, "': ", std::strerror(errno));
  }
  HEED_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot replace the figure '", path,
             "': ", std::strerror(errno));
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 17, .topic = "vit", .title = "attention on images"},
      [](const course::Lesson& lesson) {
        // ------------------------------------------------------------------
        lesson.section(1, "images made in code");
        // Five classes of stroke, each drawn at a random place and size with a
        // random ink, over noise (draw() above). The classes take turns, so
        // every class has a fifth of each set; training and test images come
        // from one generator, drawn apart.
        Generator gen(lesson.seed() + 17);
        const Images train_set = make_images(lesson.pick<int64_t>(1500, 5000), gen);
        const Images test_set = make_images(1000, gen);
        std::printf("  %lld training images, %lld test images, %lld classes; one of each:\n\n",
                    (long long)train_set.labels.numel(), (long long)test_set.labels.numel(),
                    (long long)kClasses);
        {
          static const char* const one[5] = {" ", "░", "▒", "▓", "█"};
          std::string line = "  ";
          for (int c = 0; c < kClasses; ++c)
            line += std::string(kClassNames[c]) + std::string(19 - std::strlen(kClassNames[c]), ' ');
          std::printf("%s\n", line.c_str());
          for (int64_t y = 0; y < kSide; ++y) {
            line = "  ";
            for (int64_t c = 0; c < kClasses; ++c) {
              line += "|";
              for (int64_t x = 0; x < kSide; ++x)
                line += one[std::clamp(int(test_set.pixels.at({c, y, x}) * 5), 0, 4)];
              line += "|  ";
            }
            std::printf("%s\n", line.c_str());
          }
        }

        // ------------------------------------------------------------------
        lesson.section(2, "patches are the tokens");
        // A 16 x 16 image is a 4 x 4 grid of 4 x 4 patches. Patch n is the one in
        // patch-row n / 4 and patch-column n % 4, its 16 pixels laid row-major:
        //   images (B, 16, 16) -> patches (B, N = 16, p^2 = 16)
        //   patches[b][n][i p + j] = images[b][(n / 4) p + i][(n % 4) p + j]
        // A ViT's "words" are these rows. (The lesson gathers them through a
        // table of pixel positions, gather_patches; exercise 1 cuts them for any
        // image size and patch.)
        {
          std::printf("  patch numbers over the image (each number covers 4 x 4 pixels):\n");
          for (int64_t r = 0; r < kGrid; ++r) {
            std::printf("   ");
            for (int64_t c = 0; c < kGrid; ++c) std::printf(" %3lld", (long long)(r * kGrid + c));
            std::printf("\n");
          }
          const Tensor patches = gather_patches(test_set.pixels);
          std::ostringstream shapes;
          shapes << "  images " << test_set.pixels.shape() << " -> patches " << patches.shape() << "\n";
          std::printf("%s", shapes.str().c_str());
          course::compare_exercise(
              lesson, 1, "patchify of the 1000 test images, p = 4",
              [&] { return lesson17::patchify(test_set.pixels, kPatch); }, patches, 0.0);
        }

        // ------------------------------------------------------------------
        lesson.section(3, "the Vision Transformer, and an MLP of its size");
        // Each patch becomes a token by one Linear (16 -> D), shared by all
        // patches, so a stroke is read the same way wherever it falls. (A Linear
        // on each p x p patch is a convolution with a p x p kernel and stride p:
        // ViT code writes it as Conv2d(1, D, p, stride=p); exercise 2 computes it
        // that way, straight from the image.) In front goes the class token, a
        // learned vector that belongs to no patch: the encoder lets it read from
        // every patch, and its final state is classified. Learned positions
        // (nn::LearnedPositionalEmbedding) tell the layers where each patch sits:
        //   tokens = [cls ; patches Wp^T + bp] + P[0..16]: (B, 17, D)
        // Then 2 pre-norm encoder layers, a LayerNorm and Linear(D, 5) on row 0.
        // The MLP sees the 256 pixels as one flat vector, with no notion of
        // patch or place, and as many parameters as the width allows.
        TinyViT vit(lesson.seed() + 170);
        const int64_t width = mlp_width(vit.num_parameters());
        std::unique_ptr<nn::Sequential> mlp = make_mlp(width, lesson.seed() + 171);
        {
          int64_t encoder = 0;
          for (const auto& layer : vit.layers) encoder += layer->num_parameters();
          std::printf("  %-48s %10s\n", "ViT, D = 32, 4 heads", "parameters");
          std::printf("  %-48s %10lld\n", "patch embedding, Linear 16 -> 32",
                      (long long)vit.embed->num_parameters());
          std::printf("  %-48s %10lld\n", "class token (1, 1, 32)", (long long)vit.cls.numel());
          std::printf("  %-48s %10lld\n", "learned positions (17, 32)",
                      (long long)vit.positions->num_parameters());
          std::printf("  %-48s %10lld\n", "2 encoder layers (attention, FF 32 -> 64 -> 32)",
                      (long long)encoder);
          std::printf("  %-48s %10lld\n", "LayerNorm and Linear 32 -> 5",
                      (long long)(vit.norm->num_parameters() + vit.head->num_parameters()));
          std::printf("  %-48s %10lld\n", "total", (long long)vit.num_parameters());
          std::printf(
              "  %-48s %10lld\n",
              ("MLP 256 -> " + std::to_string(width) + " -> " + std::to_string(width) + " -> 5, ReLUs")
                  .c_str(),
              (long long)mlp->num_parameters());
        }
        {
          NoGradGuard no_grad;
          const Tensor some = narrow(test_set.pixels, 0, 0, 64);
          std::printf(
              "  max |logits - nn::TransformerEncoderLayer's logits| = %.1e\n",
              double(
                  amax(abs(vit.forward(some).logits.value() - vit.forward_by_layers(some).value())).item()));
        }
        // Your patch_embedding against the ViT's Linear on gathered patches, 64
        // images: the tokens, then d/d weight for one random upstream gradient.
        {
          const Tensor some = narrow(test_set.pixels, 0, 0, 64);
          Generator g(3);
          const Tensor upstream = randn({64, kPatches, kDim}, g);
          Variable weight(clone(vit.embed->weight.value()), true), bias(clone(vit.embed->bias.value()), true);
          Variable heeds = nn::linear(Variable(gather_patches(some)), weight, bias);
          sum(heeds * Variable(upstream)).backward();
          const Tensor heeds_grad = clone(weight.grad());
          weight.zero_grad();
          Variable yours;
          if (course::compare_exercise(
                  lesson, 2, "patch_embedding of 64 images",
                  [&] {
                    yours = lesson17::patch_embedding(Variable(some), weight, bias, kPatch);
                    return yours.value();
                  },
                  heeds.value(), 1e-5))
            course::compare_exercise(
                lesson, 2, "patch_embedding d/d weight",
                [&] {
                  sum(yours * Variable(upstream)).backward();
                  return weight.grad();
                },
                heeds_grad, 1e-3);
        }

        // ------------------------------------------------------------------
        lesson.section(4, "training both");
        // The same training set, the same batches in the same order, Adam at
        // 3e-3 for both (when this lesson was written, quick mode: the ViT 85.9%
        // at 3e-3 and 84.2% at 1e-3; the MLP 74.8% at 3e-3, 68.0% at 1e-3 and
        // 70.6% at 1e-2).
        const int64_t epochs = lesson.pick<int64_t>(15, 30);
        const Run vit_run = train([&](const Tensor& x) { return vit.forward(x).logits; }, vit, 3e-3,
                                  train_set, test_set, epochs, "ViT");
        const Run mlp_run = train(
            [&](const Tensor& x) {
              return mlp->forward(reshape(x, {x.size(0), kPixels}));
            },
            *mlp, 3e-3, train_set, test_set, epochs, "MLP");
        std::printf("\n  %-6s %12s %12s %12s %14s\n", "model", "parameters", "train acc", "test acc",
                    "training time");
        std::printf("  %-6s %12lld %11.1f%% %11.1f%% %12.1f s\n", "ViT", (long long)vit.num_parameters(),
                    100 * vit_run.train_accuracy, 100 * vit_run.test_accuracy.back(), vit_run.seconds);
        std::printf("  %-6s %12lld %11.1f%% %11.1f%% %12.1f s\n", "MLP", (long long)mlp->num_parameters(),
                    100 * mlp_run.train_accuracy, 100 * mlp_run.test_accuracy.back(), mlp_run.seconds);
        // The ViT's patch embedding is one Linear shared by all 16 places, so a
        // piece of stroke learned in one corner is known in every corner; the
        // MLP weighs each pixel apart and must see each shape in each place.
        // (Against convolutional nets, which share weights at every pixel, ViTs
        // are the ones known to need more data; against an MLP they share more.)
        std::printf("  train - test accuracy: ViT %.1f points, MLP %.1f points\n",
                    100 * (vit_run.train_accuracy - vit_run.test_accuracy.back()),
                    100 * (mlp_run.train_accuracy - mlp_run.test_accuracy.back()));
        {
          std::vector<course::Series> curves;
          for (const auto& [name, run] :
               {std::pair<const char*, const Run*>{"ViT", &vit_run}, {"MLP", &mlp_run}}) {
            course::Series series{.name = name, .x = {}, .y = {}};
            for (size_t e = 0; e < run->test_accuracy.size(); ++e) {
              series.x.push_back(double(e + 1));
              series.y.push_back(100 * run->test_accuracy[e]);
            }
            curves.push_back(series);
          }
          const std::string path = lesson.figure(
              "accuracy", "the tiny ViT against an MLP of the same size: test accuracy per epoch");
          course::write_line_plot_svg(path, curves,
                                      {.title = "strokes on a 16 x 16 canvas: test accuracy per epoch",
                                       .x_label = "epoch",
                                       .y_label = "test accuracy (%)"});
          std::printf("  figure: %s\n", path.c_str());
        }
        HEED_CHECK(vit_run.test_accuracy.back() >= lesson.pick(0.8, 0.88), "the ViT reached only ",
                   100 * vit_run.test_accuracy.back(), "% test accuracy");

        // ------------------------------------------------------------------
        lesson.section(5, "what the class token attends to");
        // Row 0 of a layer's weights (B, H, 17, 17), averaged over the heads, is
        // how the class token mixed the tokens; without its own column and
        // renormalized it is a share per patch (B, 16), a 4 x 4 picture to lay
        // over the image. Rollout (lesson 16) chains both layers.
        Pass pass;
        {
          NoGradGuard no_grad;
          pass = vit.forward(test_set.pixels);
        }
        const Tensor predicted = argmax(pass.logits.value(), 1);
        const Tensor last = class_token_patches(pass.weights.back()), rolled = rollout_patches(pass.weights);
        for (int64_t b : {int64_t(2), int64_t(4)})
          print_image_and_attention(select(test_set.pixels, 0, b), select(last, 0, b),
                                    std::string("a ") + kClassNames[int(test_set.labels.data()[b])] +
                                        ", predicted: " + kClassNames[int(predicted.data()[b])]);
        // The figure: the first test image of each class.
        {
          std::vector<float> pick;
          std::vector<std::string> captions;
          for (int64_t c = 0; c < kClasses; ++c) {
            pick.push_back(float(c));
            captions.push_back(std::string(kClassNames[c]) + " (" +
                               (predicted.data()[c] == float(c) ? "right" : "wrong") + ")");
          }
          const Tensor index = from_vector(pick, {kClasses});
          const std::string path = lesson.figure("class_token_attention",
                                                 "the class token's attention (orange) over one test image "
                                                 "of each class: on the stroke or off it");
          write_attention_figure(path, index_select(test_set.pixels, 0, index),
                                 {index_select(last, 0, index), index_select(rolled, 0, index)},
                                 {"layer 2", "rollout"}, captions);
          std::printf("\n  figure: %s\n", path.c_str());
        }
        // Averaged over the test images of each class: which patches the class
        // token favours. Strokes fall anywhere, so a class-wide pattern is a
        // habit of the model, not of the images. The five 4 x 4 grids side by
        // side, a blank column between them: (4, 5 x 5 - 1).
        {
          const int64_t columns = kClasses * (kGrid + 1) - 1;
          Tensor grids = zeros({kGrid, columns});
          std::vector<std::string> col_labels(columns, " "), row_labels;
          for (int64_t c = 0; c < kClasses; ++c) {
            std::vector<float> members;
            for (int64_t b = 0; b < test_set.labels.numel(); ++b)
              if (test_set.labels.data()[b] == float(c)) members.push_back(float(b));
            const Tensor mean_share =
                mean(index_select(last, 0, from_vector(members, {int64_t(members.size())})), {0});
            copy_(narrow(grids, 1, c * (kGrid + 1), kGrid), reshape(mean_share, {kGrid, kGrid}));
            col_labels[c * (kGrid + 1)] = std::string(1, "hvcsd"[c]);
          }
          for (int64_t r = 0; r < kGrid; ++r) row_labels.push_back("patch row " + std::to_string(r));
          std::printf("\n");
          course::print_heatmap(
              std::cout, grids,
              {.title = "mean share of the class token's attention (layer 2) per patch; h horizontal bar, "
                        "v vertical bar, c cross, s square, d diagonal",
               .row_labels = row_labels,
               .col_labels = col_labels,
               .low = 0,
               .high = amax(grids).item()});
        }
        // Does it look at the stroke? The share of attention on patches the
        // stroke touches, against the share of such patches (an even spread):
        {
          std::printf("\n  %-24s %20s\n", "class token's row", "on stroke patches");
          const auto [first, even] = on_the_stroke(class_token_patches(pass.weights[0]), test_set.ink);
          std::printf("  %-24s %20.3f\n", "layer 1", first);
          std::printf("  %-24s %20.3f\n", "layer 2", on_the_stroke(last, test_set.ink).first);
          std::printf("  %-24s %20.3f\n", "rollout", on_the_stroke(rolled, test_set.ink).first);
          std::printf("  %-24s %20.3f\n", "spread evenly", even);
        }
        {
          Tensor heeds = zeros({64, kSide, kSide});
          const Tensor share = contiguous(narrow(last, 0, 0, 64));
          for (int64_t b = 0; b < 64; ++b)
            for (int64_t y = 0; y < kSide; ++y)
              for (int64_t x = 0; x < kSide; ++x)
                heeds.at({b, y, x}) = share.data()[b * kPatches + (y / kPatch) * kGrid + x / kPatch];
          course::compare_exercise(
              lesson, 3, "class_token_map of layer 2, 64 images",
              [&] {
                return lesson17::class_token_map(narrow(pass.weights.back().value(), 0, 0, 64), kGrid, kGrid,
                                                 kPatch);
              },
              heeds, 1e-6);
        }
      });
}
