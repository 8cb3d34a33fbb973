#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "lessons/04_training/exercises.h"
#include "nn/optim.h"
#include "tensor/random.h"
#include "tests/lessons/exercise_check.h"

using namespace heed;

namespace {

// Parameters of odd shapes and a loss whose gradient changes with every step
// (so a rule that only gets the first step right does not pass):
//   loss = sum(tanh(w) * c) + 0.3 sum(w^4)   for each parameter w
std::vector<Tensor> start_values() {
  Generator gen(5);
  return {randn({1}, gen), randn({3, 17}, gen), randn({63}, gen), randn({65, 1}, gen)};
}

void backward_of_loss(const std::vector<Variable>& params, const std::vector<Tensor>& c) {
  Variable loss;
  for (size_t i = 0; i < params.size(); ++i) {
    Variable term = sum(tanh(params[i]) * Variable(c[i])) + 0.3f * sum(pow(params[i], 4.0f));
    loss = loss.defined() ? loss + term : term;
  }
  loss.backward();
}

// heed's optimizer and the learner's rule from the same start over `steps`
// steps; the parameters compared after each.
void grade_rule(int exercise, const std::string& input,
                const std::function<std::unique_ptr<nn::Optimizer>(const std::vector<Variable>&)>& make_heeds,
                const std::function<void(size_t, const Variable&)>& yours, int steps = 12) {
  std::vector<Variable> theirs, mine;
  for (const Tensor& t : start_values())
    theirs.emplace_back(clone(t), true), mine.emplace_back(clone(t), true);
  Generator gen(6);
  std::vector<Tensor> c;
  for (const Variable& p : theirs) c.push_back(randn(p.shape(), gen));
  std::unique_ptr<nn::Optimizer> optimizer = make_heeds(theirs);
  for (int step = 1; step <= steps; ++step) {
    optimizer->zero_grad();
    backward_of_loss(theirs, c);
    optimizer->step();
    for (const Variable& p : mine) p.zero_grad();
    backward_of_loss(mine, c);
    {
      NoGradGuard no_grad;
      for (size_t i = 0; i < mine.size(); ++i) yours(i, mine[i]);
    }
    bool same = true;  // after the first step that differs, stop: later ones only repeat it
    for (size_t i = 0; i < mine.size(); ++i) {
      same = same && mine[i].shape() == theirs[i].shape() &&
             allclose(mine[i].value(), theirs[i].value(), 1e-5f, 1e-5f);
      std::ostringstream where;
      where << input << ", parameter " << i << " " << mine[i].shape() << ", after step " << step;
      testing::expect_close(4, exercise, where.str(), theirs[i].value(), mine[i].value(), 1e-5);
    }
    if (!same) return;
  }
}

}  // namespace

TEST_CASE("lesson 04, exercise 1: cross-entropy forward and backward") {
  Generator gen(1);
  for (const auto& [n, classes] :
       std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 2}, {17, 3}, {5, 63}, {65, 17}}) {
    const Tensor logits = randn({n, classes}, gen) * 3.0f;
    std::vector<float> ids;
    for (int64_t i = 0; i < n; ++i) ids.push_back(float(gen.randint(classes)));
    const Tensor target = from_vector(ids, {n});
    std::ostringstream input;
    input << "logits " << logits.shape() << ", target " << target.shape();

    Variable theirs(logits, true), mine(logits, true);
    Variable expected = cross_entropy(theirs, target), computed = lesson04::cross_entropy_mean(mine, target);
    testing::expect_true(4, 1, input.str(), computed.op() == "cross_entropy_mean",
                         "the loss should be made by your record(\"cross_entropy_mean\", ...), not by '" +
                             computed.op() + "'");
    testing::expect_close(4, 1, input.str() + " (loss)", expected.value(), computed.value());
    expected.backward(scalar(0.7f));
    computed.backward(scalar(0.7f));  // an upstream gradient that is not 1
    testing::expect_close(4, 1, input.str() + " (d loss / d logits, upstream 0.7)", theirs.grad(),
                          mine.grad());
    testing::expect_gradcheck(
        4, 1, input.str(),
        [&](const std::vector<Variable>& v) { return lesson04::cross_entropy_mean(v[0], target); }, {logits});
  }
  // Stability: logits near 1000 overflow exp unless each row's max comes off.
  const Tensor big = randn({4, 5}, gen) * 3.0f + 1000.0f, target = Tensor{0.0f, 4.0f, 2.0f, 1.0f};
  testing::expect_close(4, 1, "(4, 5) logits near 1000", cross_entropy(Variable(big), target).value(),
                        lesson04::cross_entropy_mean(Variable(big), target).value(), 1e-4);
  for (const Tensor& bad :
       {Tensor{0.0f, 5.0f, 1.0f, 1.0f}, Tensor{0.0f, -1.0f, 1.0f, 1.0f}, Tensor{0.0f, 1.5f, 1.0f, 1.0f}}) {
    std::string message;
    try {
      lesson04::cross_entropy_mean(Variable(big), bad);
    } catch (const NotImplemented&) {
      throw;
    } catch (const Error& e) {
      message = e.what();
    }
    std::ostringstream input;
    input << "target " << bad << " for 5 classes";
    testing::expect_true(4, 1, input.str(), !message.empty(),
                         "expected a heed::Error for a target that is no class id");
  }
}

TEST_CASE("lesson 04, exercise 2: an SGD-with-momentum step") {
  for (const lesson04::MomentumOptions& o :
       {lesson04::MomentumOptions{.lr = 0.1, .momentum = 0.9},
        lesson04::MomentumOptions{.lr = 0.03, .momentum = 0.5, .weight_decay = 0.01},
        lesson04::MomentumOptions{.lr = 0.05, .momentum = 0.0}}) {
    std::ostringstream input;
    input << "lr " << o.lr << ", momentum " << o.momentum << ", weight_decay " << o.weight_decay;
    std::vector<Tensor> velocity(start_values().size());
    grade_rule(
        2, input.str(),
        [&](const std::vector<Variable>& p) {
          return std::make_unique<nn::SGD>(
              p, nn::SGDOptions{.lr = o.lr, .momentum = o.momentum, .weight_decay = o.weight_decay});
        },
        [&](size_t i, const Variable& p) {
          lesson04::sgd_momentum_step(p.value(), contiguous(p.grad()), velocity[i], o);
        });
  }
}

TEST_CASE("lesson 04, exercise 3: an Adam step") {
  for (const lesson04::AdamStepOptions& o :
       {lesson04::AdamStepOptions{.lr = 0.01},
        lesson04::AdamStepOptions{.lr = 0.05, .beta1 = 0.8, .beta2 = 0.99},
        lesson04::AdamStepOptions{.lr = 0.02, .eps = 1e-3, .weight_decay = 0.1}}) {
    std::ostringstream input;
    input << "lr " << o.lr << ", betas (" << o.beta1 << ", " << o.beta2 << "), eps " << o.eps
          << ", weight_decay " << o.weight_decay;
    std::vector<lesson04::AdamState> state(start_values().size());
    grade_rule(
        3, input.str(),
        [&](const std::vector<Variable>& p) {
          return std::make_unique<nn::Adam>(
              p, nn::AdamOptions{
                     .lr = o.lr, .betas = {o.beta1, o.beta2}, .eps = o.eps, .weight_decay = o.weight_decay});
        },
        [&](size_t i, const Variable& p) {
          lesson04::adam_step(p.value(), contiguous(p.grad()), state[i], o);
        });
    for (const lesson04::AdamState& s : state)
      testing::expect_true(3, 3, input.str(), s.t == 12, "AdamState::t should count the 12 steps taken");
  }
}
