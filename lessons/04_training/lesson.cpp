// Lesson 04: training.
//
// Lessons 01 and 02 gave tensors and gradients. Training is the loop that
// uses them, the same loop for every model in this course:
//
//   for each epoch, for each minibatch (x, y):
//     logits = model(x)              forward, recording the graph
//     loss   = cross_entropy(logits, y)
//     zero_grad(); loss.backward()   d loss / d w for every parameter w
//     optimizer.step()               w moves against its gradient
//
// The task is made in code: three interleaved 2-D spirals, one class each,
// which no straight line separates, so a model must bend its boundaries. A
// small MLP learns them. The lesson shows the two losses (cross-entropy for
// classes, MSE for numbers), the three update rules (SGD, SGD with momentum,
// Adam), the loop with a progress bar, and the three optimizers racing from
// the same start, drawn as loss curves.
//
// Run it: build/lessons/lesson_04 (--quick: fewer points and epochs).
#include "lessons/common/lesson.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/04_training/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/progress.h"
#include "lessons/common/svg.h"
#include "nn/nn.h"

using namespace heed;

namespace {

constexpr int64_t kClasses = 3;
constexpr double kPi = 3.14159265358979323846;

// ------------------------------------------------------------- the data
// Class c's arm: radius r from 0 to 1, angle c 2pi/3 + 5r plus noise, so each
// arm winds most of a turn around the centre between the other two.
struct Spirals {
  Tensor points;  // (N, 2)
  Tensor labels;  // (N,) class ids as floats
};

Spirals make_spirals(int64_t per_class, Generator& gen) {
  std::vector<float> xy, labels;
  for (int64_t c = 0; c < kClasses; ++c)
    for (int64_t i = 0; i < per_class; ++i) {
      const double r = (i + 0.5) / double(per_class);
      const double angle = c * 2 * kPi / kClasses + 5.0 * r + 0.25 * gen.normal();
      xy.push_back(float(r * std::sin(angle)));
      xy.push_back(float(r * std::cos(angle)));
      labels.push_back(float(c));
    }
  const int64_t n = per_class * kClasses;
  return {from_vector(xy, {n, 2}), from_vector(labels, {n})};
}

// The plane [-1.1, 1.1]^2 as characters: each training point as its class's
// digit (at most about 300 of them, evenly picked), and, when `model` is
// given, every other cell shaded by the class it predicts there ('·' for 0,
// '░' for 1, '▓' for 2): its decision regions.
void draw_plane(const Spirals& data, nn::Sequential* model) {
  constexpr int W = 56, H = 24;
  constexpr double lo = -1.1, hi = 1.1;
  std::vector<std::string> cell(W * H, " ");
  if (model != nullptr) {
    NoGradGuard no_grad;
    std::vector<float> centres;
    for (int row = 0; row < H; ++row)
      for (int col = 0; col < W; ++col) {
        centres.push_back(float(lo + (col + 0.5) * (hi - lo) / W));
        centres.push_back(float(hi - (row + 0.5) * (hi - lo) / H));
      }
    const Tensor predicted = argmax(model->forward(from_vector(centres, {W * H, 2})).value(), 1);
    const char* shade[kClasses] = {"·", "░", "▓"};
    for (int k = 0; k < W * H; ++k) cell[k] = shade[int(predicted.data()[k])];
  }
  const std::vector<float> xy = data.points.to_vector(), y = data.labels.to_vector();
  const size_t every = std::max<size_t>(1, y.size() / 300);
  for (size_t i = 0; i < y.size(); i += every) {
    const int col = int((xy[2 * i] - lo) / (hi - lo) * W), row = int((hi - xy[2 * i + 1]) / (hi - lo) * H);
    if (col >= 0 && col < W && row >= 0 && row < H)
      cell[row * W + col] = std::string(1, char('0' + int(y[i])));
  }
  std::printf("  +%s+\n", std::string(W, '-').c_str());
  for (int row = 0; row < H; ++row) {
    std::string line;
    for (int col = 0; col < W; ++col) line += cell[row * W + col];
    std::printf("  |%s|\n", line.c_str());
  }
  std::printf("  +%s+\n", std::string(W, '-').c_str());
}

// ------------------------------------------------------------- the model
// 2 -> 64 -> 64 -> 3 with ReLUs: x: (B, 2)  ->  logits: (B, 3). The seed fixes
// the initial weights, so several optimizers can start from the same point.
std::unique_ptr<nn::Sequential> make_mlp(uint64_t seed) {
  return std::make_unique<nn::Sequential>(
      nn::Linear({.in_features = 2, .out_features = 64, .seed = seed}), nn::ReLU(),
      nn::Linear({.in_features = 64, .out_features = 64, .seed = seed + 1}), nn::ReLU(),
      nn::Linear({.in_features = 64, .out_features = kClasses, .seed = seed + 2}));
}

double accuracy(nn::Sequential& model, const Spirals& data) {
  NoGradGuard no_grad;
  const Tensor predicted = argmax(model.forward(data.points).value(), 1);
  return mean(eq(predicted, data.labels)).item();
}

// The minibatches of one epoch: a shuffle of 0..n-1 (Fisher-Yates) cut into
// pieces of `batch`, as float index tensors for index_select. Seeded by the
// epoch, so every optimizer sees the same batches in the same order.
std::vector<Tensor> minibatches(int64_t n, int64_t batch, uint64_t seed) {
  std::vector<float> order(n);
  std::iota(order.begin(), order.end(), 0.0f);
  Generator gen(seed);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[i], order[gen.randint(i + 1)]);
  std::vector<Tensor> out;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t size = std::min(batch, n - start);
    out.push_back(from_vector({order.begin() + start, order.begin() + start + size}, {size}));
  }
  return out;
}

struct Run {
  std::vector<double> epoch_loss;  // the mean training loss of each epoch
  double train_accuracy = 0, test_accuracy = 0;
};

struct TrainOptions {
  int64_t epochs = 1, batch = 32;
  uint64_t seed = 0;
  course::Progress* progress = nullptr;  // none: train quietly
};

// The loop of this lesson's header, on `model` with `optimizer`.
Run train(nn::Sequential& model, nn::Optimizer& optimizer, const Spirals& train_set, const Spirals& test_set,
          const TrainOptions& options) {
  const nn::CrossEntropyLoss criterion;
  Run run;
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    double total = 0;
    const std::vector<Tensor> batches =
        minibatches(train_set.labels.numel(), options.batch, options.seed + epoch);
    for (const Tensor& index : batches) {
      const Tensor x = index_select(train_set.points, 0, index), y = index_select(train_set.labels, 0, index);
      Variable loss = criterion(model.forward(x), y);  // (B, 3) logits, (B,) labels -> ()
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
      total += loss.item();
      if (options.progress) options.progress->step(loss.item(), index.numel());
    }
    run.epoch_loss.push_back(total / double(batches.size()));
    if (options.progress) {
      char note[64];
      std::snprintf(note, sizeof note, "test acc %.1f%%", 100 * accuracy(model, test_set));
      options.progress->end_epoch(note);
    }
  }
  if (options.progress) options.progress->finish();
  run.train_accuracy = accuracy(model, train_set);
  run.test_accuracy = accuracy(model, test_set);
  return run;
}

// Every parameter's elements, one after the other: (P,).
Tensor flat_parameters(const nn::Module& model) {
  std::vector<Tensor> pieces;
  for (const Variable& p : model.parameters()) pieces.push_back(flatten(p.value()));
  return cat(pieces, 0);
}

// `steps` minibatch steps of `model`: forward, backward, then `update` moves
// the parameters (heed's optimizer, or the learner's rule on each of them).
void take_steps(nn::Sequential& model, const Spirals& data, int steps, const std::function<void()>& update) {
  const nn::CrossEntropyLoss criterion;
  const std::vector<Tensor> batches = minibatches(data.labels.numel(), 32, 99);
  for (int s = 0; s < steps; ++s) {
    const Tensor& index = batches[s % batches.size()];
    model.zero_grad();
    criterion(model.forward(index_select(data.points, 0, index)), index_select(data.labels, 0, index))
        .backward();
    NoGradGuard no_grad;
    update();
  }
}

// The valley f(w) = (w0^2 + 50 w1^2) / 2 from w = (1, 1): steep across, shallow
// along. How many steps until f < 1e-4, at most `cap`?
int steps_to_converge(nn::Optimizer& optimizer, const Variable& w, int cap) {
  for (int step = 1; step <= cap; ++step) {
    Variable f = 0.5f * sum(w * w * Variable(Tensor{1.0f, 50.0f}));
    if (f.item() < 1e-4f) return step - 1;
    optimizer.zero_grad();
    f.backward();
    optimizer.step();
  }
  return cap;
}

void print_vector(const char* name, const Tensor& t) {
  std::printf("  %-34s (", name);
  const std::vector<float> v = t.to_vector();
  for (size_t i = 0; i < v.size(); ++i) std::printf("%s%8.4f", i ? ", " : "", double(v[i]));
  std::printf(")\n");
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 4, .topic = "training", .title = "training"}, [](const course::Lesson& lesson) {
        // ------------------------------------------------------------------
        lesson.section(1, "the task: three spirals");
        // Points (x, y) on three arms; the label is the arm. Training and test
        // sets are drawn apart (different seeds), so test accuracy measures
        // what the model learned about spirals, not about these points.
        const int64_t per_class = lesson.pick<int64_t>(300, 1000);
        Generator data_gen(lesson.seed() + 4);
        const Spirals train_set = make_spirals(per_class, data_gen),
                      test_set = make_spirals(per_class, data_gen);
        std::printf("  %lld training points, %lld test points, %lld classes\n",
                    (long long)train_set.labels.numel(), (long long)test_set.labels.numel(),
                    (long long)kClasses);
        draw_plane(train_set, nullptr);

        // ------------------------------------------------------------------
        lesson.section(2, "the model: a small MLP");
        // Linear layers are affine maps (lesson 02, exercise 3); the ReLUs
        // between them bend the plane, so the composition can carve spiral
        // regions. Its output is one score (a logit) per class.
        std::unique_ptr<nn::Sequential> model = make_mlp(lesson.seed() + 40);
        std::ostringstream tree;
        tree << *model;
        std::printf("%s", tree.str().c_str());

        // ------------------------------------------------------------------
        lesson.section(3, "losses: cross-entropy and MSE");
        // Cross-entropy turns the logits z: (N, C) into probabilities with
        // softmax, and charges -log of the probability given to the true class:
        //   loss = mean_n -log softmax(z_n)[y_n]     d loss/dz = (softmax(z) - onehot(y)) / N
        // The gradient is "what you predicted minus what was true", and it
        // stays large while the model is confidently wrong.
        // MSE is the loss for predicting numbers:
        //   loss = mean (p - t)^2                   d loss/dp = 2 (p - t) / n
        // Used on a classifier's probabilities it saturates: when the softmax is
        // confidently wrong its derivative is nearly zero, so MSE's gradient
        // through it vanishes exactly when it is needed most.
        {
          const Tensor wrong = Tensor{{0.0f, 0.0f, 8.0f}}, target = Tensor{0.0f},
                       onehot = Tensor{{1.0f, 0.0f, 0.0f}};
          Variable z_ce(wrong, true), z_mse(wrong, true);
          Variable ce = cross_entropy(z_ce, target);
          Variable mse = mse_loss(softmax(z_mse, -1), Variable(onehot));
          ce.backward();
          mse.backward();
          print_vector("logits z, true class 0", wrong);
          print_vector("softmax(z)", softmax(wrong, -1));
          std::printf("  %-34s %.4f and %.4f\n", "cross-entropy and MSE(softmax)", double(ce.item()),
                      double(mse.item()));
          print_vector("d cross-entropy / dz", z_ce.grad());
          print_vector("d MSE(softmax(z), onehot) / dz", z_mse.grad());
          // And MSE where it belongs, on numbers: predictions p against targets t.
          Variable p(Tensor{2.5f, 0.0f, 1.0f}, true);
          Variable regression = mse_loss(p, Variable(Tensor{3.0f, -0.5f, 1.0f}));
          regression.backward();
          std::printf("  %-34s %.4f\n", "MSE, p (2.5, 0, 1), t (3, -0.5, 1)", double(regression.item()));
          print_vector("d MSE / dp = 2 (p - t) / 3", p.grad());
        }
        Generator gen(lesson.seed() + 5);
        const Tensor logits = randn({8, 3}, gen) * 2.0f,
                     labels = Tensor{0.0f, 2.0f, 1.0f, 1.0f, 0.0f, 2.0f, 2.0f, 1.0f};
        {
          Variable theirs(logits, true), mine(logits, true);
          Variable loss = cross_entropy(theirs, labels);
          loss.backward();
          std::printf("\n  heed's cross_entropy on (8, 3) random logits: %.6f\n", double(loss.item()));
          Variable yours;
          if (course::compare_exercise(
                  lesson, 1, "cross_entropy_mean forward",
                  [&] {
                    yours = lesson04::cross_entropy_mean(mine, labels);
                    return yours.value();
                  },
                  loss.value(), 1e-5) &&
              course::compare_exercise(
                  lesson, 1, "cross_entropy_mean d/dlogits",
                  [&] {
                    yours.backward();
                    return mine.grad();
                  },
                  theirs.grad(), 1e-6))
            course::check_exercise(
                lesson, 1, "cross_entropy_mean gradcheck",
                [&] {
                  return gradcheck(
                             [&](const std::vector<Variable>& v) {
                               return lesson04::cross_entropy_mean(v[0], labels);
                             },
                             {logits})
                      .ok;
                },
                "your backward against central differences");
        }

        // ------------------------------------------------------------------
        lesson.section(4, "optimizers: SGD, momentum, Adam");
        // SGD steps against the gradient:           w -= lr g
        // Momentum keeps a velocity, a running sum of past gradients:
        //   b = momentum b + g,  w -= lr b
        // Along a direction where the gradients agree it builds up to
        // 1 / (1 - momentum) times the step (10x at 0.9); across a valley,
        // where they flip sign, they cancel. Adam divides each element's step
        // by the root mean square of its recent gradients:
        //   m = b1 m + (1 - b1) g,   v = b2 v + (1 - b2) g^2
        //   w -= lr m_hat / (sqrt(v_hat) + eps)      (hats: bias-corrected, exercises.h)
        // so every parameter moves about lr per step whatever its gradient's
        // scale. In a valley 50 times steeper across than along (momentum's best
        // value depends on the valley; 0.9 is the habit for networks):
        {
          const int cap = 2000;
          auto race = [&](const char* name, auto make) {
            Variable w(Tensor{1.0f, 1.0f}, true);
            auto optimizer = make(std::vector<Variable>{w});
            const int steps = steps_to_converge(*optimizer, w, cap);
            std::printf("  %-36s %s%d steps\n", name, steps == cap ? "more than " : "", steps);
          };
          race("SGD, lr 0.035 (above 2/50 it diverges)", [](std::vector<Variable> p) {
            return std::make_unique<nn::SGD>(p, nn::SGDOptions{.lr = 0.035});
          });
          race("SGD with momentum 0.7, lr 0.03", [](std::vector<Variable> p) {
            return std::make_unique<nn::SGD>(p, nn::SGDOptions{.lr = 0.03, .momentum = 0.7});
          });
          race("Adam, lr 0.05", [](std::vector<Variable> p) {
            return std::make_unique<nn::Adam>(p, nn::AdamOptions{.lr = 0.05});
          });
        }
        // Your steps (exercises 2 and 3) against nn::SGD and nn::Adam: two
        // copies of the MLP from the same start, the same 20 minibatches, then
        // every parameter compared.
        std::printf("\n");
        const int steps = 20;
        auto compare_rule = [&](int k, const std::string& what, auto make_heeds,
                                const std::function<void(size_t, const Variable&)>& yours) {
          std::unique_ptr<nn::Sequential> heeds = make_mlp(7), mine = make_mlp(7);
          auto optimizer = make_heeds(heeds->named_parameters());
          take_steps(*heeds, train_set, steps, [&] { optimizer->step(); });
          course::compare_exercise(
              lesson, k, what,
              [&] {
                const std::vector<Variable> params = mine->parameters();
                take_steps(*mine, train_set, steps, [&] {
                  for (size_t i = 0; i < params.size(); ++i) yours(i, params[i]);
                });
                return flat_parameters(*mine);
              },
              flat_parameters(*heeds), 1e-5);
        };
        const lesson04::MomentumOptions momentum{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3};
        std::vector<Tensor> velocity(model->parameters().size());
        compare_rule(
            2, "SGD with momentum, 20 steps of the MLP",
            [&](nn::NamedParameters p) {
              return std::make_unique<nn::SGD>(p, nn::SGDOptions{.lr = momentum.lr,
                                                                 .momentum = momentum.momentum,
                                                                 .weight_decay = momentum.weight_decay});
            },
            [&](size_t i, const Variable& p) {
              lesson04::sgd_momentum_step(p.value(), contiguous(p.grad()), velocity[i], momentum);
            });
        const lesson04::AdamStepOptions adam{.lr = 0.01};
        std::vector<lesson04::AdamState> moments(model->parameters().size());
        compare_rule(
            3, "Adam, 20 steps of the MLP",
            [&](nn::NamedParameters p) {
              return std::make_unique<nn::Adam>(p, nn::AdamOptions{.lr = adam.lr});
            },
            [&](size_t i, const Variable& p) {
              lesson04::adam_step(p.value(), contiguous(p.grad()), moments[i], adam);
            });

        // ------------------------------------------------------------------
        lesson.section(5, "the training loop");
        // The loop of this file's header (train() above), with Adam, minibatches
        // of 32 reshuffled every epoch. The progress bar shows the loss as it
        // falls and, after each epoch, the test accuracy.
        const TrainOptions loop{
            .epochs = lesson.pick<int64_t>(15, 40), .batch = 32, .seed = lesson.seed() + 400};
        const int64_t steps_per_epoch = (train_set.labels.numel() + loop.batch - 1) / loop.batch;
        std::vector<std::pair<std::string, Run>> runs;
        {
          nn::Adam optimizer(model->named_parameters(), {.lr = 0.01});
          course::Progress progress(
              {.label = "Adam", .epochs = loop.epochs, .steps_per_epoch = steps_per_epoch});
          TrainOptions with_bar = loop;
          with_bar.progress = &progress;
          runs.emplace_back("Adam, lr 0.01", train(*model, optimizer, train_set, test_set, with_bar));
        }
        std::printf("\n  after %lld epochs: train accuracy %.1f%%, test accuracy %.1f%%\n",
                    (long long)loop.epochs, 100 * runs[0].second.train_accuracy,
                    100 * runs[0].second.test_accuracy);
        std::printf(
            "  its decision regions ('·' class 0, '░' class 1, '▓' class 2) under the training points:\n");
        draw_plane(train_set, model.get());

        // ------------------------------------------------------------------
        lesson.section(6, "SGD, momentum and Adam from the same start");
        // The same initial weights (make_mlp's seed), the same batches in the
        // same order, only the update rule differs.
        {
          std::unique_ptr<nn::Sequential> m = make_mlp(lesson.seed() + 40);
          nn::SGD optimizer(m->named_parameters(), {.lr = 0.1});
          runs.emplace_back("SGD, lr 0.1", train(*m, optimizer, train_set, test_set, loop));
        }
        {
          std::unique_ptr<nn::Sequential> m = make_mlp(lesson.seed() + 40);
          nn::SGD optimizer(m->named_parameters(), {.lr = 0.05, .momentum = 0.9});
          runs.emplace_back("SGD + momentum 0.9, lr 0.05", train(*m, optimizer, train_set, test_set, loop));
        }
        std::rotate(runs.begin(), runs.begin() + 1, runs.end());  // Adam last
        std::printf("  %-28s %10s %10s %10s %9s %9s\n", "", "epoch 1",
                    ("epoch " + std::to_string(loop.epochs / 2)).c_str(),
                    ("epoch " + std::to_string(loop.epochs)).c_str(), "train", "test");
        std::vector<course::Series> curves;
        for (const auto& [name, run] : runs) {
          std::printf("  %-28s %10.4f %10.4f %10.4f %8.1f%% %8.1f%%\n", name.c_str(), run.epoch_loss.front(),
                      run.epoch_loss[loop.epochs / 2 - 1], run.epoch_loss.back(), 100 * run.train_accuracy,
                      100 * run.test_accuracy);
          course::Series series{.name = name, .x = {}, .y = {}};
          for (size_t e = 0; e < run.epoch_loss.size(); ++e) {
            series.x.push_back(double(e + 1));
            series.y.push_back(run.epoch_loss[e]);
          }
          curves.push_back(series);
        }
        const std::string path = lesson.figure(
            "loss_curves", "SGD, momentum and Adam from the same start: Adam and momentum fall fastest");
        course::write_line_plot_svg(path, curves,
                                    {.title = "three spirals: training loss per epoch",
                                     .x_label = "epoch",
                                     .y_label = "cross-entropy (mean over the epoch)",
                                     .log_y = true});
        std::printf("  loss curves: %s\n", path.c_str());
        // Training is seeded, so these are the numbers every run gets; the
        // lesson fails loudly if the loop stops learning.
        const double needed = lesson.pick(0.85, 0.95);
        HEED_CHECK(runs.back().second.test_accuracy >= needed, "Adam reached only ",
                   100 * runs.back().second.test_accuracy, "% test accuracy, expected at least ",
                   100 * needed, "%");
      });
}
