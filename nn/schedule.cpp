#include "nn/schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "nn/optim.h"
#include "tensor/error.h"

namespace heed::nn {

double Constant::operator()(int64_t) const { return value; }

double StepLR::operator()(int64_t step) const {
  HEED_CHECK(step_size > 0, "StepLR: step_size must be positive, got ", step_size);
  return base_lr * std::pow(gamma, double(step / step_size));
}

double CosineAnnealing::operator()(int64_t step) const {
  HEED_CHECK(t_max > 0, "CosineAnnealing: t_max must be positive, got ", t_max);
  double progress = double(std::min(step, t_max)) / double(t_max);  // 0 -> 1
  return eta_min + (base_lr - eta_min) * (1 + std::cos(std::numbers::pi * progress)) / 2;
}

double LinearWarmup::operator()(int64_t step) const {
  HEED_CHECK(warmup_steps > 0, "LinearWarmup: warmup_steps must be positive, got ", warmup_steps);
  HEED_CHECK(after != nullptr, "LinearWarmup: no schedule to follow after the warmup");
  if (step < warmup_steps) return after(0) * double(step + 1) / double(warmup_steps);
  return after(step - warmup_steps);
}

double Noam::operator()(int64_t step) const {
  HEED_CHECK(d_model > 0 && warmup_steps > 0, "Noam: d_model and warmup_steps must be positive");
  double s = double(step + 1);
  return factor / std::sqrt(double(d_model)) *
         std::min(1 / std::sqrt(s), s / std::pow(double(warmup_steps), 1.5));
}

void apply_schedule(Optimizer& optimizer, const Schedule& schedule) {
  optimizer.set_lr(schedule(optimizer.step_count()));
}

}  // namespace heed::nn
