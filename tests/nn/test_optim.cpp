// Optimizers, gradient clipping and learning-rate schedules against hand-computed values.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include "nn/module.h"
#include "nn/optim.h"
#include "nn/schedule.h"
#include "tensor/ops.h"
#include "tensor/random.h"

using namespace heed;
using namespace heed::nn;
namespace fs = std::filesystem;

namespace {

// One parameter holding `values`, with gradient `grad` (set by hand: no backward needed).
Variable param(std::initializer_list<Tensor::Literal> values) { return Variable(Tensor(values), true); }
void set_grad(const Variable& p, std::initializer_list<Tensor::Literal> grad) { p.set_grad(Tensor(grad)); }

fs::path scratch(const std::string& name) {
  return fs::temp_directory_path() /
         ("heed_test_optim_" + name + "_" + std::to_string(::getpid()) + ".safetensors");
}

}  // namespace

// ------------------------------------------------------------- SGD

TEST_CASE("SGD: w <- w - lr * g") {
  Variable w = param({1.0f, -2.0f});
  SGD opt({w}, {.lr = 0.1});
  set_grad(w, {0.5f, 1.0f});
  opt.step();
  CHECK(w.value().at({0}) == doctest::Approx(0.95));
  CHECK(w.value().at({1}) == doctest::Approx(-2.1));
}

TEST_CASE("SGD with momentum: the buffer starts as the first gradient, then b <- mu b + g") {
  Variable w = param({0.0f});
  SGD opt({w}, {.lr = 0.1, .momentum = 0.9});
  set_grad(w, {1.0f});
  opt.step();  // b = 1,   w = -0.1
  CHECK(w.value().item() == doctest::Approx(-0.1));
  opt.step();  // b = 1.9, w = -0.1 - 0.19
  CHECK(w.value().item() == doctest::Approx(-0.29));
  opt.step();  // b = 2.71
  CHECK(w.value().item() == doctest::Approx(-0.29 - 0.271));
}

TEST_CASE("SGD with dampening scales the new gradient into the buffer by 1 - dampening") {
  Variable w = param({0.0f});
  SGD opt({w}, {.lr = 1.0, .momentum = 0.5, .dampening = 0.5});
  set_grad(w, {1.0f});
  opt.step();  // b = 1 (the first step takes g undamped)
  opt.step();  // b = 0.5 * 1 + 0.5 * 1 = 1
  CHECK(w.value().item() == doctest::Approx(-2.0));
}

TEST_CASE("SGD with Nesterov momentum steps along g + mu b") {
  Variable w = param({0.0f});
  SGD opt({w}, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  set_grad(w, {1.0f});
  opt.step();  // b = 1,   d = 1 + 0.9 = 1.9
  CHECK(w.value().item() == doctest::Approx(-0.19));
  opt.step();  // b = 1.9, d = 1 + 1.71 = 2.71
  CHECK(w.value().item() == doctest::Approx(-0.19 - 0.271));
}

TEST_CASE("SGD weight decay adds wd * w to the gradient") {
  Variable w = param({2.0f});
  SGD opt({w}, {.lr = 0.1, .weight_decay = 0.5});
  set_grad(w, {1.0f});
  opt.step();  // d = 1 + 0.5 * 2 = 2
  CHECK(w.value().item() == doctest::Approx(1.8));
}

TEST_CASE("an optimizer skips parameters without a gradient, and zero_grad drops gradients") {
  Variable a = param({1.0f}), b = param({1.0f});
  SGD opt({a, b}, {.lr = 1.0});
  set_grad(a, {1.0f});
  opt.step();
  CHECK(a.value().item() == 0.0f);
  CHECK(b.value().item() == 1.0f);
  opt.zero_grad();
  CHECK_FALSE(a.grad().defined());
}

TEST_CASE("SGD rejects Nesterov without momentum") {
  Variable w = param({0.0f});
  CHECK_THROWS_AS(SGD({w}, {.lr = 0.1, .nesterov = true}), Error);
}

// ------------------------------------------------------------- Adam, AdamW

namespace {

// The closed form, in double, for a gradient sequence g1, g2, g3 on one weight.
double adam_reference(double w, const double (&g)[3], double lr, double b1, double b2, double eps, double wd,
                      bool decoupled, int steps) {
  double m = 0, v = 0;
  for (int t = 1; t <= steps; ++t) {
    double gt = g[t - 1] + (decoupled ? 0 : wd * w);
    if (decoupled) w *= 1 - lr * wd;
    m = b1 * m + (1 - b1) * gt;
    v = b2 * v + (1 - b2) * gt * gt;
    double m_hat = m / (1 - std::pow(b1, t)), v_hat = v / (1 - std::pow(b2, t));
    w -= lr * m_hat / (std::sqrt(v_hat) + eps);
  }
  return w;
}

}  // namespace

TEST_CASE("Adam matches the bias-corrected closed form for three steps") {
  const double g[3] = {0.5, -1.0, 2.0};
  for (double wd : {0.0, 0.1}) {
    CAPTURE(wd);
    Variable w = param({1.5f});
    Adam opt({w}, {.lr = 0.01, .betas = {0.9, 0.999}, .eps = 1e-8, .weight_decay = wd});
    for (int t = 1; t <= 3; ++t) {
      set_grad(w, {float(g[t - 1])});
      opt.step();
      CHECK(w.value().item() ==
            doctest::Approx(adam_reference(1.5, g, 0.01, 0.9, 0.999, 1e-8, wd, false, t)).epsilon(1e-6));
    }
  }
}

TEST_CASE("Adam's first step moves every weight by about lr, whatever the gradient's scale") {
  Variable w = param({0.0f, 0.0f});
  Adam opt({w}, {.lr = 0.01});
  set_grad(w, {1e-3f, 1e3f});
  opt.step();
  CHECK(w.value().at({0}) == doctest::Approx(-0.01).epsilon(1e-4));
  CHECK(w.value().at({1}) == doctest::Approx(-0.01).epsilon(1e-4));
}

TEST_CASE("AdamW decays the weight directly, outside the adaptive step") {
  const double g[3] = {0.5, -1.0, 2.0};
  Variable w = param({1.5f});
  AdamW opt({w}, {.lr = 0.01, .weight_decay = 0.1});
  for (int t = 1; t <= 3; ++t) {
    set_grad(w, {float(g[t - 1])});
    opt.step();
    CHECK(w.value().item() ==
          doctest::Approx(adam_reference(1.5, g, 0.01, 0.9, 0.999, 1e-8, 0.1, true, t)).epsilon(1e-6));
  }
  // And it is not Adam with L2: the two differ.
  CHECK(adam_reference(1.5, g, 0.01, 0.9, 0.999, 1e-8, 0.1, true, 3) !=
        doctest::Approx(adam_reference(1.5, g, 0.01, 0.9, 0.999, 1e-8, 0.1, false, 3)).epsilon(1e-6));
}

// ------------------------------------------------------------- clipping

TEST_CASE("clip_grad_norm scales all gradients together to the max norm and returns the norm before") {
  Variable a = param({0.0f, 0.0f}), b = param({0.0f}), none = param({0.0f});
  set_grad(a, {3.0f, 4.0f});
  set_grad(b, {12.0f});  // global norm sqrt(9 + 16 + 144) = 13
  CHECK(clip_grad_norm({a, b, none}, 6.5) == doctest::Approx(13.0));
  double scale = 6.5 / (13.0 + 1e-6);
  CHECK(a.grad().at({0}) == doctest::Approx(3.0 * scale));
  CHECK(a.grad().at({1}) == doctest::Approx(4.0 * scale));
  CHECK(b.grad().at({0}) == doctest::Approx(12.0 * scale));
  CHECK_FALSE(none.grad().defined());
}

TEST_CASE("clip_grad_norm leaves gradients under the max norm untouched") {
  Variable a = param({0.0f, 0.0f});
  set_grad(a, {3.0f, 4.0f});
  CHECK(clip_grad_norm({a}, 10.0) == doctest::Approx(5.0));
  CHECK(a.grad().at({0}) == 3.0f);
}

// ------------------------------------------------------------- schedules

TEST_CASE("StepLR multiplies by gamma every step_size steps") {
  StepLR s{.base_lr = 0.1, .step_size = 10, .gamma = 0.5};
  CHECK(s(0) == doctest::Approx(0.1));
  CHECK(s(9) == doctest::Approx(0.1));
  CHECK(s(10) == doctest::Approx(0.05));
  CHECK(s(25) == doctest::Approx(0.025));
}

TEST_CASE("CosineAnnealing falls from base_lr to eta_min over t_max steps along half a cosine, then stays") {
  CosineAnnealing s{.base_lr = 1.0, .t_max = 100, .eta_min = 0.1};
  CHECK(s(0) == doctest::Approx(1.0));
  CHECK(s(50) == doctest::Approx(0.55));                                  // halfway: the mean
  CHECK(s(25) == doctest::Approx(0.1 + 0.9 * (1 + std::sqrt(0.5)) / 2));  // cos(pi/4)
  CHECK(s(100) == doctest::Approx(0.1));
  CHECK(s(150) == doctest::Approx(0.1));
}

TEST_CASE("LinearWarmup ramps to the next schedule's first value, then follows it") {
  LinearWarmup constant{.warmup_steps = 4, .after = Constant{0.8}};
  CHECK(constant(0) == doctest::Approx(0.2));
  CHECK(constant(1) == doctest::Approx(0.4));
  CHECK(constant(3) == doctest::Approx(0.8));
  CHECK(constant(100) == doctest::Approx(0.8));

  LinearWarmup then_decay{.warmup_steps = 2, .after = StepLR{.base_lr = 1.0, .step_size = 1, .gamma = 0.5}};
  CHECK(then_decay(0) == doctest::Approx(0.5));
  CHECK(then_decay(1) == doctest::Approx(1.0));
  CHECK(then_decay(2) == doctest::Approx(1.0));  // StepLR at its step 0
  CHECK(then_decay(3) == doctest::Approx(0.5));  // StepLR at its step 1
}

TEST_CASE("Noam rises linearly for warmup steps, peaks, then decays as 1/sqrt(step)") {
  Noam s{.d_model = 512, .warmup_steps = 4000};
  auto noam = [](double step_num) {  // the paper's formula, step_num from 1
    return std::pow(512.0, -0.5) * std::min(std::pow(step_num, -0.5), step_num * std::pow(4000.0, -1.5));
  };
  CHECK(s(0) == doctest::Approx(noam(1)));
  CHECK(s(999) == doctest::Approx(noam(1000)));
  CHECK(s(3999) == doctest::Approx(std::pow(512.0, -0.5) / std::sqrt(4000.0)));  // the peak
  CHECK(s(15999) == doctest::Approx(noam(16000)));
  CHECK(s(3999) > s(3998));
  CHECK(s(3999) > s(4000));
}

TEST_CASE("apply_schedule sets the learning rate for the optimizer's current step") {
  Variable w = param({0.0f});
  SGD opt({w}, {.lr = 1.0});
  Schedule schedule = StepLR{.base_lr = 1.0, .step_size = 1, .gamma = 0.5};
  set_grad(w, {1.0f});
  for (int i = 0; i < 3; ++i) {
    apply_schedule(opt, schedule);
    opt.step();
  }
  CHECK(w.value().item() == doctest::Approx(-(1.0 + 0.5 + 0.25)));
}

// ------------------------------------------------------------- resuming

namespace {

struct Tiny : Module {
  Variable w, b;
  explicit Tiny(uint64_t seed) : Module("Tiny") {
    Generator gen(seed);
    w = register_parameter("w", randn({3, 2}, gen));
    b = register_parameter("b", randn({2}, gen));
  }
};

// A gradient that depends on the weights, as a real loss's would: d/dp of
// sum(p^3 / 3 - p) is p^2 - 1.
void fake_backward(const Module& m) {
  for (const Variable& p : m.parameters()) p.set_grad(p.value() * p.value() - 1.0f);
}

template <class Opt>
void train(Module& model, Opt& opt, const Schedule& schedule, int steps) {
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    fake_backward(model);
    clip_grad_norm(model.parameters(), 1.0);
    apply_schedule(opt, schedule);
    opt.step();
  }
}

template <class Opt, class Options>
void check_resume(const Options& options) {
  std::string model_path = scratch("model").string(), opt_path = scratch("opt").string();
  Schedule schedule = LinearWarmup{.warmup_steps = 4, .after = CosineAnnealing{.base_lr = 0.05, .t_max = 10}};

  Tiny a(1);
  Opt opt_a(a.named_parameters(), options);
  train(a, opt_a, schedule, 3);
  a.save(model_path);
  opt_a.save(opt_path);
  train(a, opt_a, schedule, 3);

  Tiny b(2);  // different weights, fresh state: everything must come from the files
  Opt opt_b(b.named_parameters(), options);
  b.load(model_path);
  opt_b.load(opt_path);
  CHECK(opt_b.step_count() == 3);
  train(b, opt_b, schedule, 3);

  CHECK(equal(a.w.value(), b.w.value()));
  CHECK(equal(a.b.value(), b.b.value()));
  CHECK(opt_a.lr() == opt_b.lr());
  fs::remove(model_path);
  fs::remove(opt_path);
}

}  // namespace

TEST_CASE("save, load and three more steps give bitwise the weights of six uninterrupted steps") {
  SUBCASE("SGD with Nesterov momentum") {
    check_resume<SGD>(SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
  }
  SUBCASE("Adam") { check_resume<Adam>(AdamOptions{.lr = 0.01, .weight_decay = 0.01}); }
  SUBCASE("AdamW") { check_resume<AdamW>(AdamWOptions{.lr = 0.01}); }
}

TEST_CASE("state_dict and load_state_dict resume in memory as save and load do through a file") {
  Tiny a(1);
  Adam opt_a(a.named_parameters(), {.lr = 0.01});
  train(a, opt_a, Constant{}, 3);
  Tiny b(2);
  Adam opt_b(b.named_parameters(), {.lr = 0.01});
  b.load_state_dict(a.state_dict());
  opt_b.load_state_dict(opt_a.state_dict());
  train(a, opt_a, Constant{}, 3);
  train(b, opt_b, Constant{}, 3);
  CHECK(equal(a.w.value(), b.w.value()));
  CHECK(equal(a.b.value(), b.b.value()));
  CHECK_THROWS_WITH_AS(b.load_state_dict({{"w", zeros({7})}}, {}, "my list"),
                       doctest::Contains("Module::load: my list into"), Error);
}

TEST_CASE("optimizer load refuses another optimizer's state and buffers of unknown parameters") {
  std::string path = scratch("wrong").string();
  Tiny model(1);
  Adam adam(model.named_parameters());
  fake_backward(model);
  adam.step();
  adam.save(path);

  SGD sgd(model.named_parameters(), {.lr = 0.1});
  CHECK_THROWS_WITH_AS(sgd.load(path), doctest::Contains("the state was saved by Adam, not SGD"), Error);

  Variable other = param({1.0f});
  Adam stranger({other});
  CHECK_THROWS_WITH_AS(stranger.load(path),
                       doctest::Contains("a step count for \"b\", which is not a parameter"), Error);
  fs::remove(path);
}
