// Lesson 02: autograd.
//
// Training needs d loss / d w for every weight w, and a network is millions of
// weights. Reverse-mode differentiation gets all of them for about the cost
// of one more forward pass:
//
//   - while the forward runs, each op records a node: its inputs, and a
//     closure that knows its local derivative (the graph);
//   - backward() starts from d loss / d loss = 1 and walks the graph from the
//     output to the leaves, each closure turning d loss / d output into
//     d loss / d input (the chain rule, one op at a time);
//   - a value used twice receives the sum of its two gradients.
//
// heed's Variable is a Tensor plus that record. This lesson draws a graph,
// checks the chain rule by hand, shows backward's rules, checks gradients by
// finite differences (gradcheck), writes a new op with record(), and finds a
// NaN's origin with anomaly mode. The exercises are three ops you write,
// forward and backward.
//
// Run it: build/lessons/lesson_02 (the same in --quick: nothing here trains).
#include "lessons/common/lesson.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/02_autograd/exercises.h"
#include "lessons/common/exercise.h"
#include "nn/nn.h"

using namespace heed;

namespace {

// A Tensor printed under its name, indented as a block.
void show(const std::string& name, const Tensor& t) {
  std::istringstream lines(to_string(t));
  std::printf("  %s =\n", name.c_str());
  for (std::string line; std::getline(lines, line);) std::printf("    %s\n", line.c_str());
}

// Text indented by `pad` spaces, at most `max_lines` lines.
void print_indented(const std::string& text, int pad, int max_lines = 1000) {
  std::istringstream lines(text);
  int n = 0;
  for (std::string line; std::getline(lines, line) && n < max_lines; ++n)
    std::printf("%*s%s\n", pad, "", line.c_str());
}

// The DOT file goes beside the lesson's SVG figures (a .dot is no SVG, so it is
// not one of lesson.figure()'s).
std::string write_dot(const course::Lesson& lesson, const std::string& name, const std::string& dot) {
  std::filesystem::create_directories(lesson.flags().out);
  const std::string path =
      (std::filesystem::path(lesson.flags().out) / (lesson.tag() + "_" + name + ".dot")).string();
  std::ofstream file(path);
  file << dot;
  HEED_CHECK(file.good(), "lesson 02: cannot write '", path, "' (choose another folder with --out DIR)");
  return path;
}

// softplus(x) = log(1 + e^x), a smooth relu; d softplus / dx = sigmoid(x).
// The forward as tensor ops; the backward beside it, capturing x as Saved.
// (log(1 + e^x) = max(x, 0) + log(1 + e^-|x|) keeps e^x from overflowing.)
Variable softplus(const Variable& x) {
  Tensor y = relu(x.value()) + log(1.0f + exp(-abs(x.value())));
  return record("softplus", y, {x}, [x = Saved(x.value(), "its input")](const Tensor& grad) {
    return Grads{grad * sigmoid(x.get())};
  });
}

// The same op with a classic slip: the derivative of log(1 + e^x) taken as
// e^x, forgetting the chain rule's 1 / (1 + e^x).
Variable softplus_wrong(const Variable& x) {
  Tensor y = relu(x.value()) + log(1.0f + exp(-abs(x.value())));
  return record("softplus", y, {x}, [x = Saved(x.value(), "its input")](const Tensor& grad) {
    return Grads{grad * exp(x.get())};
  });
}

// Exercise k: the learner's op against heed's, on `inputs`: the forward, then
// (once that matches) each input's gradient for the same upstream gradient,
// and gradcheck on the learner's backward.
using Op = std::function<Variable(const std::vector<Variable>&)>;
void compare_op(const course::Lesson& lesson, int k, const std::string& name, const Op& yours,
                const Op& heeds, const std::vector<Tensor>& inputs,
                const std::vector<std::string>& input_names) {
  std::vector<Variable> mine, theirs;
  for (const Tensor& t : inputs) mine.emplace_back(t, true), theirs.emplace_back(t, true);
  Variable out_heed = heeds(theirs), out_mine;
  if (!course::compare_exercise(
          lesson, k, name + " forward",
          [&] {
            out_mine = yours(mine);
            return out_mine.value();
          },
          out_heed.value(), 1e-5))
    return;
  Generator gen(7);
  Tensor g = randn(out_heed.shape(), gen);  // the same d loss / d output for both
  out_heed.backward(g);
  bool all = true;
  for (size_t i = 0; i < inputs.size() && all; ++i) {
    all = course::compare_exercise(
        lesson, k, name + " d/d" + input_names[i],
        [&, i] {
          if (i == 0) out_mine.backward(g);
          return mine[i].grad();
        },
        theirs[i].grad(), 1e-4);
  }
  if (all)
    course::check_exercise(
        lesson, k, name + " gradcheck", [&] { return gradcheck(yours, inputs).ok; },
        "your backward against central differences, every element");
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 2, .topic = "autograd", .title = "autograd"}, [](const course::Lesson& lesson) {
        Generator gen(lesson.seed() + 1);

        // ------------------------------------------------------------------
        lesson.section(1, "the graph");
        // One layer and a loss:
        //   x: (4, 3) data        w: (3, 2), b: (2,) parameters
        //   h = tanh(x w + b): (4, 2)        loss = mean(h * h): ()
        // The data is a constant (requires_grad false): it needs no gradient, and
        // an op whose inputs are all constants records nothing. Each op on a
        // parameter makes a node; to_dot() prints the graph behind a Variable in
        // Graphviz's language (boxes are ops, numbered in the order they ran,
        // with their output's shape; ellipses are leaves, named by set_name();
        // grey ones are constants, which the graph keeps no handle on).
        Variable x(randn({4, 3}, gen));
        Variable w(randn({3, 2}, gen) * 0.5f, /*requires_grad=*/true);
        Variable b(zeros({2}), /*requires_grad=*/true);
        w.set_name("w"), b.set_name("b");  // names show in the graph and in errors
        Variable pre = matmul(x, w) + b;
        Variable h = tanh(pre);
        Variable loss = mean(h * h);
        std::printf("  loss = %.6f, made by %s (h by %s, pre by %s); w is a %s\n", loss.item(),
                    loss.op().c_str(), h.op().c_str(), pre.op().c_str(), w.is_leaf() ? "leaf" : "node");
        const std::string dot = to_dot(loss);
        std::printf("  its graph, as to_dot(loss) gives it:\n\n");
        print_indented(dot, 4);
        const std::string dot_path = write_dot(lesson, "graph", dot);
        std::printf("\n  written to %s; draw it with  dot -Tsvg %s -o graph.svg\n", dot_path.c_str(),
                    dot_path.c_str());

        // ------------------------------------------------------------------
        lesson.section(2, "the chain rule");
        // For scalars: u = a*b + c, y = tanh(u). Each op knows only its own local
        // derivative; the chain rule multiplies them along the path:
        //   dy/du = 1 - y^2,  dy/da = dy/du * b,  dy/db = dy/du * a,  dy/dc = dy/du
        Variable a(scalar(2.0f), true), bb(scalar(-1.0f), true), c(scalar(0.5f), true);
        Variable y = tanh(a * bb + c);
        y.backward();
        const double yv = y.item(), dydu = 1 - yv * yv;
        std::printf("  a = 2, b = -1, c = 0.5:  y = tanh(a*b + c) = %.6f\n", yv);
        std::printf("  %-6s %12s %12s\n", "", "by hand", "backward()");
        std::printf("  %-6s %12.6f %12.6f\n", "dy/da", dydu * -1.0, double(a.grad().item()));
        std::printf("  %-6s %12.6f %12.6f\n", "dy/db", dydu * 2.0, double(bb.grad().item()));
        std::printf("  %-6s %12.6f %12.6f\n\n", "dy/dc", dydu, double(c.grad().item()));

        // With tensors it is the same rule with shapes. For section 1's loss
        // (n = 8 elements of h):
        //   dloss/dh   = 2 h / n                       (4, 2)
        //   dloss/dpre = dloss/dh * (1 - h^2)          (4, 2)  elementwise
        //   dloss/dw   = xᵀ dloss/dpre                 (3, 4)(4, 2) = (3, 2)
        //   dloss/db   = dloss/dpre summed over rows   (2,): b was broadcast to 4 rows,
        //                                              so it gets the sum of 4 gradients
        loss.backward();
        const Tensor hv = h.value(), dpre = (2.0f / float(hv.numel())) * hv * (1.0f - hv * hv);
        const Tensor dw = matmul(transpose(x.value(), 0, 1), dpre), db = sum(dpre, {0});
        show("w.grad (backward)", w.grad());
        show("xᵀ (2h/n (1 - h^2)) (by hand)", dw);
        std::printf("  w.grad %s the hand's; b.grad %s sum over rows\n",
                    allclose(w.grad(), dw, 1e-5f, 1e-6f) ? "equals" : "differs from",
                    allclose(b.grad(), db, 1e-5f, 1e-6f) ? "equals the" : "differs from the");

        // ------------------------------------------------------------------
        lesson.section(3, "backward's rules");
        // backward() sorts the graph once, so each node runs after every op that
        // used its output has handed back a gradient, then walks it from the loss.
        // (1) A value used twice gets the sum: y = x*x + x uses x three times, so
        //     dy/dx = x + x + 1 = 2x + 1.
        Variable v(Tensor{1.0f, -2.0f, 3.0f}, true);
        sum(v * v + v).backward();
        std::cout << "  (1) d/dx sum(x*x + x) at x = (1, -2, 3): " << v.grad() << "   (2x + 1)\n";
        // (2) Leaves accumulate (+=) across backward calls: that is how gradients
        //     of several losses (or micro-batches) add up. zero_grad() resets.
        sum(v * v + v).backward();
        std::cout << "  (2) after a second backward: " << v.grad() << "   (twice as much)\n";
        v.zero_grad();
        std::printf("      after zero_grad(): %s\n", v.grad().defined() ? "still defined" : "no gradient");
        // (3) backward frees the graph's saved tensors (memory is the price of
        //     reverse mode); walking it again is an error unless retain_graph.
        Variable once = sum(v * v);
        once.backward();
        try {
          once.backward();
        } catch (const Error& e) {
          std::printf("  (3) a second backward through a freed graph:\n      %s\n", e.what());
        }

        // ------------------------------------------------------------------
        lesson.section(4, "gradcheck: finite differences");
        // A backward can be checked without knowing it: nudge one input element by
        // +-h and watch the loss move,
        //   dL/dx_k ~ (L(x_k + h) - L(x_k - h)) / 2h     (error O(h^2): central, not one-sided)
        // Here for w[0, 0] of section 1's loss, the forward run under NoGradGuard
        // (nothing to record), in float. The step h is a compromise: the formula
        // errs by ~h^2 (too big a step), float rounding of L by ~1e-7 / h (too small).
        {
          NoGradGuard no_grad;
          auto loss_at = [&](float w00) {
            Tensor wv = clone(w.value());
            wv.at({0, 0}) = w00;
            Tensor hh = tanh(matmul(x.value(), wv) + b.value());
            return double(mean(hh * hh).item());
          };
          const float w00 = w.value().at({0, 0});
          const double analytic = w.grad().at({0, 0});
          std::printf("  dloss/dw[0, 0] by backward: %.7f\n", analytic);
          std::printf("  %8s %16s %12s\n", "h", "central diff.", "|error|");
          for (float step : {1e-1f, 1e-2f, 1e-3f, 1e-4f}) {
            const float up = w00 + step, down = w00 - step;  // the floats actually used
            const double numeric = (loss_at(up) - loss_at(down)) / (double(up) - double(down));
            std::printf("  %8.0e %16.7f %12.1e\n", double(step), numeric, std::fabs(numeric - analytic));
          }
        }
        // gradcheck (autograd/gradcheck.h) does this for every element of every
        // input, on L = sum(f(x) * r) with a fixed random r so every output element
        // counts, and reports the worst element when they disagree.
        auto layer = [](const std::vector<Variable>& in) {
          Variable hh = tanh(matmul(in[0], in[1]) + in[2]);
          return mean(hh * hh);
        };
        const GradcheckResult layer_check = gradcheck(layer, {x.value(), w.value(), b.value()});
        std::printf("  gradcheck of section 1's loss, on x, w and b: %s\n", layer_check.ok ? "ok" : "FAILED");
        HEED_CHECK(layer_check.ok, "lesson 02: gradcheck of heed's own ops failed:\n", layer_check.report);

        // ------------------------------------------------------------------
        lesson.section(5, "a new op: forward and backward side by side");
        // heed::record(name, value, inputs, backward) makes the node. backward
        // receives d loss / d output (the op's shape) and returns one gradient
        // per input, in input order and in each input's shape. It captures what
        // it reads as Saved tensors (an in-place write to one is then caught), never
        // a Variable, so the graph holds no cycles.
        //
        //   softplus(x) = log(1 + e^x),   d softplus/dx = e^x / (1 + e^x) = sigmoid(x)
        //
        // (see softplus() at the top of this file). gradcheck passes it, and
        // catches the version that forgot the chain rule's 1 / (1 + e^x):
        const Tensor points = Tensor{{-3.0f, -0.5f, 0.25f}, {1.0f, 2.0f, 4.0f}};
        auto good = [](const std::vector<Variable>& in) { return softplus(in[0]); };
        auto bad = [](const std::vector<Variable>& in) { return softplus_wrong(in[0]); };
        const GradcheckResult good_check = gradcheck(good, {points}), bad_check = gradcheck(bad, {points});
        std::printf("  gradcheck(softplus): %s\n", good_check.ok ? "ok" : "FAILED");
        std::printf("  gradcheck(softplus with e^x as its derivative): %s\n",
                    bad_check.ok ? "ok (?)" : "fails:");
        print_indented(bad_check.report, 4, 4);
        HEED_CHECK(good_check.ok && !bad_check.ok,
                   "lesson 02: gradcheck did not tell softplus from its slip");

        // Your three ops (exercises.h), each against heed's: the forward, each
        // input's gradient for one random d loss / d output, then gradcheck.
        std::printf("\n");
        const Tensor logits = randn({4, 6}, gen) * 3.0f;
        compare_op(
            lesson, 1, "softmax_last",
            [](const std::vector<Variable>& in) { return lesson02::softmax_last(in[0]); },
            [](const std::vector<Variable>& in) { return softmax(in[0], -1); }, {logits}, {"x"});
        compare_op(
            lesson, 2, "logsumexp_last",
            [](const std::vector<Variable>& in) { return lesson02::logsumexp_last(in[0]); },
            [](const std::vector<Variable>& in) { return log(sum(exp(in[0]), {-1})); }, {logits}, {"x"});
        compare_op(
            lesson, 3, "affine",
            [](const std::vector<Variable>& in) { return lesson02::affine(in[0], in[1], in[2]); },
            [](const std::vector<Variable>& in) { return nn::linear(in[0], in[1], in[2]); },
            {randn({5, 3}, gen), randn({4, 3}, gen), randn({4}, gen)}, {"x", "w", "b"});

        // ------------------------------------------------------------------
        lesson.section(6, "anomaly mode: where did the NaN come from?");
        // A NaN in the loss says nothing about where it was born. Here
        // p * log(p) (an entropy term) meets p = 0: log gives -inf, 0 * -inf is
        // NaN, and the sum carries it out.
        Variable p(Tensor{0.5f, 0.0f, 0.5f}, true);
        p.set_name("p");
        const float entropy = sum(p * log(p)).item();
        std::printf("  sum(p * log(p)) at p = (0.5, 0, 0.5): %s\n",
                    std::isnan(entropy) ? "nan" : "a number (?)");
        // Under an AnomalyGuard every op checks its output (and backward every
        // gradient), and the first non-finite value throws, naming the op and its
        // number (the number to_dot prints) and its inputs.
        try {
          AnomalyGuard anomaly;
          sum(p * log(p));
        } catch (const Error& e) {
          std::printf("  with AnomalyGuard:\n    %s\n", e.what());
        }
      });
}
