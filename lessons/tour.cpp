// `make run`: a short tour of what heed can already do, until the numbered
// lessons land in lessons/. Four stops, each a floor of the engine:
//   1. tensor/    a tensor and a view of it that shares its storage
//   2. autograd/  a gradient from backward(), checked against finite differences
//   3. nn/        a small network trained for a few hundred steps
//   4. nn/        its checkpoint saved, loaded into a fresh model, outputs matched
// It writes tour.safetensors into the current folder and runs in well under a second.
#include <cstdio>
#include <iostream>
#include <memory>

#include "nn/nn.h"

using namespace heed;

namespace {

void heading(const char* title) { std::printf("\n== %s\n\n", title); }

// A 2 -> 16 -> 2 classifier; the same shapes for every seed, so one model's
// checkpoint loads into another.
nn::Sequential make_model(uint64_t seed) {
  return nn::Sequential(nn::Linear({.in_features = 2, .out_features = 16, .seed = seed}), nn::Tanh(),
                        nn::Linear({.in_features = 16, .out_features = 2, .seed = seed + 1}));
}

}  // namespace

int main() {
  std::printf(
      "heed: a tour of the engine as it stands. The numbered lessons (attention, from\n"
      "Bahdanau to a Transformer that translates) are coming to lessons/.\n");

  heading("1. a tensor and a view");
  Tensor x = view(arange(6), {2, 3});  // (2, 3): 0..5, row by row
  Tensor xt = transpose(x, 0, 1);      // (3, 2): the same six floats, other strides
  std::cout << "x, (2, 3):\n" << x << "\ntranspose(x, 0, 1), (3, 2):\n" << xt << "\n";
  xt.at({2, 0}) = 50;  // a write through the view is a write to x
  std::cout << "after transpose(x, 0, 1)[2, 0] = 50, x is\n" << x << "\n";
  std::printf("x strides (%lld, %lld), its transpose's (%lld, %lld): no copy was made\n",
              (long long)x.stride(0), (long long)x.stride(1), (long long)xt.stride(0),
              (long long)xt.stride(1));

  heading("2. a gradient, checked");
  // L = sum(tanh(w v)), so dL/dw = (1 - tanh(w v)^2) v^T: (3, 4) (4, 2) -> (3, 2).
  Generator gen(0);
  Variable w(randn({3, 2}, gen), /*requires_grad=*/true);
  Variable v(randn({2, 4}, gen));
  sum(tanh(matmul(w, v))).backward();
  std::cout << "L = sum(tanh(w v)), w: (3, 2), v: (2, 4); dL/dw from backward():\n" << w.grad() << "\n";
  GradcheckResult check = gradcheck(
      [](const std::vector<Variable>& in) { return tanh(matmul(in[0], in[1])); }, {w.value(), v.value()});
  std::printf("gradcheck, every element of w and v against central differences: %s\n",
              check ? "they agree" : check.report.c_str());

  heading("3. a network learns a circle");
  // 256 points in the square [-1, 1]^2, labelled 1 inside the circle x^2 + y^2 < 0.5.
  Tensor points = uniform({256, 2}, -1.0f, 1.0f, gen);          // (256, 2)
  Tensor inside = lt(sum(points * points, {1}), scalar(0.5f));  // (256,)
  nn::Sequential model = make_model(1);
  std::cout << model;
  nn::Adam adam(model.named_parameters(), {.lr = 1e-2});
  nn::CrossEntropyLoss criterion;
  for (int step = 0; step <= 300; ++step) {
    adam.zero_grad();
    Variable logits = model.forward(points);  // (256, 2)
    Variable loss = criterion(logits, inside);
    if (step % 50 == 0) {
      double accuracy = mean(eq(argmax(logits.value(), -1), inside)).item();
      std::printf("  step %3d   loss %.4f   accuracy %5.1f%%\n", step, loss.value().item(), accuracy * 100);
    }
    loss.backward();
    adam.step();
  }

  heading("4. a checkpoint, saved and loaded");
  model.save("tour.safetensors");
  nn::Sequential reloaded = make_model(100);  // other weights, until load() replaces them
  reloaded.load("tour.safetensors");
  NoGradGuard no_grad;
  bool same = equal(model.forward(points).value(), reloaded.forward(points).value());
  std::printf("saved tour.safetensors (%lld parameters); a fresh model loaded from it gives %s\n",
              (long long)model.num_parameters(),
              same ? "the same outputs, bit for bit" : "DIFFERENT outputs");

  std::printf(
      "\nThat is the engine so far. The lessons are coming; meanwhile: make test (every test),\n"
      "make bench (speed on this machine), and README.md (your own program).\n");
  return same && check ? 0 : 1;
}
