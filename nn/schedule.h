// Learning-rate schedules: each is a function from the step number to a
// learning rate, where `step` counts the updates already made (0 before the
// first, i.e. Optimizer::step_count()):
//
//   nn::Schedule schedule = nn::LinearWarmup{.warmup_steps = 100,
//                                            .after = nn::CosineAnnealing{.base_lr = 1e-3, .t_max = 900}};
//   for (...) {
//     nn::apply_schedule(opt, schedule);  // sets the lr for the update about to be made
//     ...
//     opt.step();
//   }
//
// Each is a small struct with the formula in its comment, so a schedule is
// also something to print, plot, or test at chosen steps.
#pragma once

#include <cstdint>
#include <functional>

namespace heed::nn {

class Optimizer;

using Schedule = std::function<double(int64_t step)>;

// lr = value, always.
struct Constant {
  double value = 1e-3;
  double operator()(int64_t step) const;
};

// torch.optim.lr_scheduler.StepLR: decays by gamma every step_size steps.
//   lr = base_lr * gamma^floor(step / step_size)
struct StepLR {
  double base_lr = 1e-3;
  int64_t step_size = 1;
  double gamma = 0.1;
  double operator()(int64_t step) const;
};

// torch.optim.lr_scheduler.CosineAnnealingLR (its closed form), half a cosine
// from base_lr down to eta_min over t_max steps, then eta_min (PyTorch's would
// climb back up; a schedule that ends should stay ended):
//   lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * min(step, t_max) / t_max)) / 2
struct CosineAnnealing {
  double base_lr = 1e-3;
  int64_t t_max = 1;
  double eta_min = 0.0;
  double operator()(int64_t step) const;
};

// Linear warmup: ramps up to `after`'s first value over warmup_steps updates,
// then follows `after`, restarted at its step 0:
//   lr = after(0) * (step + 1) / warmup_steps   for step < warmup_steps
//   lr = after(step - warmup_steps)              afterwards
// (step + 1: the first update already moves, with after(0) / warmup_steps.)
struct LinearWarmup {
  int64_t warmup_steps = 1;
  Schedule after = Constant{};
  double operator()(int64_t step) const;
};

// The Transformer's schedule ("Attention Is All You Need", section 5.3): a
// linear warmup, then decay as the inverse square root of the step:
//   lr = factor * d_model^-0.5 * min(s^-0.5, s * warmup_steps^-1.5),  s = step + 1
// (the paper counts steps from 1); it peaks at s = warmup_steps.
struct Noam {
  int64_t d_model = 512;
  int64_t warmup_steps = 4000;
  double factor = 1.0;
  double operator()(int64_t step) const;
};

// Sets the optimizer's learning rate to schedule(optimizer.step_count()).
void apply_schedule(Optimizer& optimizer, const Schedule& schedule);

}  // namespace heed::nn
