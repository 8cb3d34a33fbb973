// Lesson 09: self-attention.
//
// Lessons 06-08 attended from a decoder's state to an encoder's states. Here
// the queries, keys and values all come from one sequence: every token asks
// every other token (and itself) what it needs, in one matrix product, with
// no recurrence. This lesson builds scaled dot-product attention, measures why
// the scores are divided by sqrt(Dh), derives its backward through the
// softmax, hides keys with causal and padding masks, and trains a one-layer
// model on a task that no token can solve on its own.
#include "lessons/common/lesson.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "lessons/09_self_attention/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/heatmap.h"
#include "lessons/common/progress.h"
#include "lessons/common/svg.h"
#include "lessons/common/vocab.h"
#include "nn/nn.h"

using namespace heed;

namespace {

// ------------------------------------------------------------- section 3
struct Saturation {
  double max_weight = 0, entropy = 0, grad_norm = 0;  // means over the rows
};

// Softmax rows of R queries over S keys whose q and k entries are N(0, 1) in
// d dims: the dot products then have variance d (a sum of d products of
// variance 1), or 1 once divided by sqrt(d). For each row: its largest
// weight, its entropy, and the norm of the gradient that reaches the scores
// from a random N(0, 1) gradient on the weights.
Saturation measure_saturation(int64_t d, bool scaled, Generator& gen) {
  const int64_t R = 512, S = 16;
  const Tensor q = randn({R, 1, d}, gen), k = randn({R, S, d}, gen), g = randn({R, 1, S}, gen);
  Variable scores(matmul(q, transpose(k, -2, -1)) * (scaled ? 1.0f / std::sqrt(float(d)) : 1.0f), true);
  Variable w = softmax(scores, -1);  // (R, 1, S)
  sum(w * g).backward();             // scores.grad() = w * (g - sum(g * w)): (R, 1, S)
  const Tensor wv = w.value();
  Saturation s;
  s.max_weight = mean(amax(wv, {-1})).item();
  s.entropy = mean(neg(sum(wv * log(maximum(wv, scalar(1e-30f))), {-1}))).item();
  s.grad_norm = mean(sqrt(sum(scores.grad() * scores.grad(), {-1}))).item();
  return s;
}

// ------------------------------------------------------------- section 4
// d loss/d q, k, v of loss = sum(out * r), flattened and joined: one tensor to compare.
Tensor attention_grads(const std::function<Variable(const Variable&, const Variable&, const Variable&)>& f,
                       const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& r) {
  Variable vq(q, true), vk(k, true), vv(v, true);
  sum(f(vq, vk, vv) * r).backward();
  return cat({flatten(vq.grad()), flatten(vk.grad()), flatten(vv.grad())}, 0);
}

// ------------------------------------------------------------- section 6
// The successor task: T distinct tokens of 0..V-1 in random order; at each
// position, the smallest token of the sequence larger than this one (the
// largest token answers itself). Following the answers from the smallest
// token walks the sequence in sorted order.
struct SuccessorBatch {
  Tensor ids, targets;  // (B, T) each
};

SuccessorBatch successor_batch(int64_t B, int64_t T, int64_t V, Generator& gen) {
  SuccessorBatch batch{empty({B, T}), empty({B, T})};
  std::vector<int64_t> symbols(V);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < V; ++i) symbols[i] = i;
    for (int64_t i = 0; i < T; ++i) std::swap(symbols[i], symbols[i + gen.randint(V - i)]);  // T distinct
    for (int64_t i = 0; i < T; ++i) {
      int64_t next = symbols[i];
      for (int64_t j = 0; j < T; ++j)
        if (symbols[j] > symbols[i] && (next == symbols[i] || symbols[j] < next)) next = symbols[j];
      batch.ids.data()[b * T + i] = float(symbols[i]);
      batch.targets.data()[b * T + i] = float(next);
    }
  }
  return batch;
}

// Embedding -> one self-attention (q, k, v projections, no positions: the task
// is about a set) -> a linear readout of the attended value. With attend =
// false each token sees only itself (h = value of its own embedding): the
// best any model can do that reads one token at a time.
class SuccessorModel : public nn::Module {
 public:
  SuccessorModel(int64_t V, int64_t D, bool attend, Generator& gen)
      : nn::Module("SuccessorModel"), attend_(attend) {
    embed = register_module("embed", std::make_shared<nn::Embedding>(
                                         nn::EmbeddingOptions{.num_embeddings = V, .embedding_dim = D}, gen));
    for (auto [name, proj] : {std::pair{"q", &q}, std::pair{"k", &k}, std::pair{"v", &v}})
      *proj = register_module(
          name, std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = D, .out_features = D}, gen));
    readout = register_module(
        "readout", std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = D, .out_features = V}, gen));
  }

  // ids: (B, T)  ->  logits (B, T, V) and weights (B, T, T) (undefined without attention)
  nn::Attention forward(const Tensor& ids) {
    Variable x = embed->forward(ids);  // (B, T, D)
    if (!attend_) return {readout->forward(v->forward(x)), Variable()};
    nn::Attention a = nn::scaled_dot_product_attention(q->forward(x), k->forward(x), v->forward(x));
    return {readout->forward(a.output), a.weights};
  }

  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::Linear> q, k, v, readout;

 private:
  bool attend_;
};

double token_accuracy(const Tensor& logits, const Tensor& targets) {
  return mean(eq(argmax(logits, -1), targets)).item();
}

// Trains one model; returns its test accuracy (per token).
double train_successor(const course::Lesson& lesson, SuccessorModel& model, int64_t T, int64_t V,
                       const SuccessorBatch& test, Generator& gen) {
  const int64_t B = 64, epochs = lesson.pick(5, 20), steps = 100;
  nn::Adam opt(model.named_parameters(), {.lr = 1e-2});
  nn::CrossEntropyLoss criterion;
  course::Progress progress({.label = "training", .epochs = epochs, .steps_per_epoch = steps});
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    for (int64_t step = 0; step < steps; ++step) {
      SuccessorBatch batch = successor_batch(B, T, V, gen);
      Variable loss = criterion(model.forward(batch.ids).output, batch.targets);
      opt.zero_grad();
      loss.backward();
      opt.step();
      progress.step(loss.item(), B * T);
    }
    NoGradGuard no_grad;
    char note[64];
    std::snprintf(note, sizeof note, "test accuracy %.1f%%",
                  100 * token_accuracy(model.forward(test.ids).output.value(), test.targets));
    progress.end_epoch(note);
  }
  progress.finish();
  NoGradGuard no_grad;
  return token_accuracy(model.forward(test.ids).output.value(), test.targets);
}

std::vector<std::string> labels_of(const Tensor& ids_row) {
  std::vector<std::string> labels;
  for (float id : ids_row.to_vector()) labels.push_back(std::to_string(int(id)));
  return labels;
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 9, .topic = "self_attention", .title = "self-attention"},
      [](const course::Lesson& lesson) {
        Generator gen(lesson.seed() + 9);

        // ================================================================== 1
        lesson.section(1, "attention is a soft dictionary lookup");
        // A dictionary maps a key to its value exactly. Attention compares a query
        // with every key (a dot product), turns the comparisons into weights that
        // sum to 1 (a softmax), and returns the weighted average of the values: a
        // lookup that is differentiable, so the keys, queries and values can be
        // learned. Here three keys point along three directions, and the query
        // leans towards the second.
        {
          Tensor keys = {{4, 0}, {0, 4}, {-4, 0}};  // (S, Dh) = (3, 2)
          Tensor values = {{10}, {20}, {30}};       // (S, Dv) = (3, 1)
          Tensor query = {{0.5f, 2}};               // (T, Dh) = (1, 2)
          nn::Attention a = nn::scaled_dot_product_attention(query, keys, values);
          std::vector<float> w = a.weights.value().to_vector();
          std::printf(
              "query (0.5, 2) against keys (4, 0), (0, 4), (-4, 0): scores q.k / sqrt(2) = %.2f %.2f %.2f\n",
              2 / std::sqrt(2.0), 8 / std::sqrt(2.0), -2 / std::sqrt(2.0));
          std::printf("weights %.3f %.3f %.3f -> output %.2f (the values are 10, 20, 30)\n", w[0], w[1], w[2],
                      a.output.value().item());
        }

        // ================================================================== 2
        lesson.section(2, "scaled dot-product attention");
        // For T queries, S keys and S values of one sequence (self-attention: all
        // three are projections of the same tokens, so S = T):
        //
        //   scores  = q kᵀ / sqrt(Dh)            (T, Dh)(Dh, S) -> (T, S)
        //   weights = softmax(scores) per row    (T, S), each row sums to 1
        //   output  = weights v                  (T, S)(S, Dv)  -> (T, Dv)
        //
        // Leading dims (batch B, heads H) ride along: q (B, H, T, Dh) gives
        // weights (B, H, T, S). A row of weights is one query's attention; column j
        // is how much every query takes from token j. The softmax is computed
        // stably: subtract the row's largest score before exp, so no exponent is
        // positive and nothing overflows (softmax is unchanged by a shift).
        {
          Tensor q = randn({2, 5, 8}, gen), k = randn({2, 5, 8}, gen), v = randn({2, 5, 3}, gen);
          nn::Attention a = nn::scaled_dot_product_attention(q, k, v);
          std::cout << "q, k (2, 5, 8), v (2, 5, 3) -> weights " << a.weights.shape() << ", output "
                    << a.output.shape() << "\n";
          std::cout << "row sums of the weights: " << sum(a.weights.value(), {-1}) << "\n";
          course::compare_exercise(
              lesson, 1, "attention forward", [&] { return lesson09::attention_forward(q, k, v).output; },
              a.output.value());
          Tensor big = q * 300.0f;  // scores of ~1000: exp(1000) overflows a float
          course::compare_exercise(
              lesson, 1, "attention forward, scores ~1000",
              [&] { return lesson09::attention_forward(big, k, v).weights; },
              nn::scaled_dot_product_attention(big, k, v).weights.value());
        }

        // ================================================================== 3
        lesson.section(3, "why divide by sqrt(Dh): softmax saturation");
        // With q and k entries of mean 0 and variance 1, q.k sums Dh products of
        // variance 1: its variance is Dh, its spread sqrt(Dh). Without the scale,
        // wider heads give wider scores, and the softmax of widely spread scores
        // is nearly one-hot: the largest weight tends to 1, the entropy to 0, and
        // the Jacobian w_i (δ_ij - w_j) to 0, so almost no gradient reaches q and
        // k. Dividing by sqrt(Dh) keeps the scores' variance at 1 for every Dh.
        // Measured on 512 rows of 16 keys (a uniform row has entropy ln 16 = 2.77):
        {
          std::printf("%6s   %-17s   %-17s   %-17s\n", "", "mean max weight", "mean entropy",
                      "gradient norm");
          std::printf("%6s   %8s %8s   %8s %8s   %8s %8s\n", "Dh", "q.k", "/sqrt(Dh)", "q.k", "/sqrt(Dh)",
                      "q.k", "/sqrt(Dh)");
          std::vector<course::Series> max_weight = {{.name = "q.k"}, {.name = "q.k / sqrt(Dh)"}};
          std::vector<course::Series> gradient = max_weight, entropy = max_weight;
          std::vector<Saturation> at_256;
          for (int64_t d : {4, 8, 16, 32, 64, 128, 256}) {
            Saturation raw = measure_saturation(d, false, gen), scaled = measure_saturation(d, true, gen);
            std::printf("%6lld   %8.3f %8.3f   %8.3f %8.3f   %8.4f %8.4f\n", (long long)d, raw.max_weight,
                        scaled.max_weight, raw.entropy, scaled.entropy, raw.grad_norm, scaled.grad_norm);
            for (int i = 0; i < 2; ++i) {
              const Saturation& s = i == 0 ? raw : scaled;
              max_weight[i].x.push_back(double(d));
              max_weight[i].y.push_back(s.max_weight);
              entropy[i].x.push_back(double(d));
              entropy[i].y.push_back(s.entropy);
              gradient[i].x.push_back(double(d));
              gradient[i].y.push_back(s.grad_norm);
            }
            if (d == 256) at_256 = {raw, scaled};
          }
          std::printf(
              "At Dh = 256 the unscaled rows put %.0f%% of their weight on one key and pass %.0fx less\n"
              "gradient than the scaled ones; scaled, every column stays the same whatever Dh.\n",
              100 * at_256[0].max_weight, at_256[1].grad_norm / at_256[0].grad_norm);
          HEED_CHECK(at_256[0].max_weight > 0.8 && at_256[1].max_weight < 0.5,
                     "lesson 09: expected saturation without the scale and none with it, got max weights ",
                     at_256[0].max_weight, " and ", at_256[1].max_weight);
          course::write_line_plot_svg(lesson.figure("saturation_max_weight",
                                                    "without 1/sqrt(d) the largest weight of a row heads for "
                                                    "1 as d grows; with it, it stays put"),
                                      max_weight,
                                      {.title = "Softmax saturation: the largest weight of a row (16 keys)",
                                       .x_label = "head width Dh",
                                       .y_label = "mean max weight",
                                       .log_x = true});
          course::write_line_plot_svg(
              lesson.figure("saturation_entropy",
                            "the rows' entropy collapses without the scale: softmax saturates"),
              entropy,
              {.title = "Entropy of the attention rows (uniform: ln 16 = 2.77)",
               .x_label = "head width Dh",
               .y_label = "mean entropy (nats)",
               .log_x = true});
          course::write_line_plot_svg(
              lesson.figure("saturation_gradient", "and the gradient reaching the scores shrinks with it"),
              gradient,
              {.title = "Gradient that reaches the scores through the softmax",
               .x_label = "head width Dh",
               .y_label = "mean |d loss / d scores|",
               .log_x = true,
               .log_y = true});
        }

        // ================================================================== 4
        lesson.section(4, "the backward, through the softmax");
        // Reverse the forward one product at a time. With dO = d loss/d output (T, Dv):
        //
        //   output = W v          ->  dV = Wᵀ dO: (S, T)(T, Dv),   dW = dO vᵀ: (T, Dv)(Dv, S)
        //   W = softmax(scores)   ->  dS = W * (dW - rowsum(dW * W))          (T, S)
        //   scores = q kᵀ / sqrt(Dh)  ->  dQ = dS k / sqrt(Dh): (T, S)(S, Dh),
        //                                 dK = dSᵀ q / sqrt(Dh): (S, T)(T, Dh)
        //
        // The softmax line is the Jacobian w_i (δ_ij - w_j) applied to a vector,
        // never built as a (S, S) matrix. A hidden key has w = 0, so its dS is 0:
        // masks need no extra code in the backward. Exercise 2 writes this as one
        // recorded op; heed's version composes matmul, softmax and matmul, whose
        // backwards are the same lines.
        {
          Tensor q = randn({2, 4, 6}, gen), k = randn({2, 7, 6}, gen), v = randn({2, 7, 3}, gen);
          Tensor r = randn({2, 4, 3}, gen);
          Tensor heeds = attention_grads(
              [](const Variable& a, const Variable& b, const Variable& c) {
                return nn::scaled_dot_product_attention(a, b, c).output;
              },
              q, k, v, r);
          std::printf("d loss / d q, k, v for q (2, 4, 6), k (2, 7, 6), v (2, 7, 3): %lld numbers\n",
                      (long long)heeds.numel());
          course::compare_exercise(
              lesson, 2, "attention backward (dq, dk, dv)",
              [&] {
                return attention_grads([](const Variable& a, const Variable& b,
                                          const Variable& c) { return lesson09::attention_op(a, b, c); },
                                       q, k, v, r);
              },
              heeds, 1e-4);
        }

        // ================================================================== 5
        lesson.section(5, "masks: causal and padding");
        // A mask hides keys: a non-zero entry gives that key weight exactly 0 for
        // that query (its score is left out of the softmax, not just made small).
        //  - causal, (T, T): 1 where key j > query i. A model that predicts token
        //    t + 1 from tokens <= t must not see the answer; with the mask, output t
        //    is a function of inputs 0 .. t only.
        //  - padding, (B, S) viewed as (B, 1, S): 1 at the pad tokens that fill a
        //    short sequence up to the batch's length, so they never count.
        {
          const int64_t T = 6;
          Tensor x = randn({1, T, 4}, gen);  // q = k = v = x: attention with no projections
          Tensor causal = nn::causal_mask(T);
          nn::Attention a = nn::scaled_dot_product_attention(x, x, x, causal);
          course::print_heatmap(
              std::cout, select(a.weights.value(), 0, 0),
              {.title = "causal self-attention, (T, T) = (6, 6): nothing above the diagonal"});
          course::write_heatmap_svg(
              lesson.figure("causal_weights", "a causal mask: nothing above the diagonal"),
              select(a.weights.value(), 0, 0),
              {.title = "Causal self-attention: query t sees keys 0..t", .low = 0, .high = 1});

          // Change token 3 and see which outputs move.
          Tensor x2 = clone(x);
          fill_(select(select(x2, 0, 0), 0, 3), 5.0f);
          Tensor moved = amax(
              abs(nn::scaled_dot_product_attention(x2, x2, x2, causal).output.value() - a.output.value()),
              {0, 2});  // (T,)
          std::cout << "token 3 changed; max |change| of outputs 0..5: " << moved << "\n";
          for (int64_t t = 0; t < 3; ++t)
            HEED_CHECK(moved.data()[t] == 0.0f, "lesson 09: causal output ", t,
                       " moved when token 3 changed");

          // A batch of three sequences of lengths 6, 4 and 0, right-padded to 6.
          std::vector<int64_t> lengths = {6, 4, 0};
          Tensor xs = randn({3, T, 4}, gen);
          Tensor padding =
              view(nn::key_padding_mask(lengths, T), {3, 1, T});  // (B, 1, S) broadcasts over queries
          nn::Attention p = nn::scaled_dot_product_attention(xs, xs, xs, padding);
          std::cout << "sequence of length 4, weights (rows: queries, the last two columns are padding):\n"
                    << select(p.weights.value(), 0, 1) << "\n";
          // A sequence with no tokens at all: every key of every row hidden. Filling
          // hidden scores with -inf and calling softmax gives exp(-inf) / sum = 0 / 0.
          Tensor scores = matmul(select(xs, 0, 2), transpose(select(xs, 0, 2), 0, 1)) * 0.5f;
          Tensor naive = softmax(
              masked_fill(scores, select(padding, 0, 2), -std::numeric_limits<float>::infinity()), -1);
          std::printf(
              "fully padded sequence: softmax of -inf scores gives %g; heed's masked softmax gives weights "
              "summing to %g and an output of max |value| %g\n",
              naive.data()[0], sum(select(p.weights.value(), 0, 2)).item(),
              amax(abs(select(p.output.value(), 0, 2))).item());
          HEED_CHECK(std::isnan(naive.data()[0]) && sum(abs(select(p.output.value(), 0, 2))).item() == 0.0f,
                     "lesson 09: expected NaN from the naive softmax and zeros from heed's");

          // Both masks at once, with queries that are the last T of S positions
          // (decoding with a cache, lesson 10): T = 2 new queries, S = 6 keys.
          Tensor both = ne(add(view(nn::key_padding_mask({6, 4, 0}, 6), {3, 1, 6}), nn::causal_mask(2, 6)),
                           scalar(0.0f));
          std::cout << "causal + padding for T = 2 queries at positions 4, 5 and S = 6 keys, sequence of "
                       "length 4:\n"
                    << select(both, 0, 1) << "\n";
          course::compare_exercise(
              lesson, 3, "causal + padding mask",
              [&] {
                return lesson09::self_attention_mask({6, 4, 0}, 2, 6, true);
              },
              both, 0);
        }

        // ================================================================== 6
        lesson.section(6, "a task that needs self-attention: each token finds its successor");
        // T = 6 distinct digits of 0..9 in random order; at each position the
        // answer is the next larger digit present in the sequence (the largest
        // answers itself): 7 2 9 4 -> 9 4 9 7. No token can know its answer
        // alone, since it depends on which others are there. One self-attention
        // layer can: the score q_a . k_b must be highest for the smallest b > a,
        // a function of the pair (a, b) that the bilinear form e_a Wqᵀ Wk e_b can
        // learn (D = 32 >= 10 tokens), and the value then carries b to the readout.
        // No positions are needed: the answer does not depend on the order.
        {
          const int64_t T = 6, V = 10, D = 32;
          SuccessorBatch test = successor_batch(1000, T, V, gen);
          std::printf("without attention (each token alone):\n");
          SuccessorModel alone(V, D, false, gen);
          const double alone_accuracy = train_successor(lesson, alone, T, V, test, gen);
          std::printf("with one self-attention layer:\n");
          SuccessorModel model(V, D, true, gen);
          const double accuracy = train_successor(lesson, model, T, V, test, gen);
          std::printf("test accuracy per token: each token alone %.1f%%, with self-attention %.1f%%\n",
                      100 * alone_accuracy, 100 * accuracy);
          HEED_CHECK(accuracy > 0.9 && accuracy > alone_accuracy + 0.3,
                     "lesson 09: self-attention should solve the successor task, got ", accuracy, " (alone ",
                     alone_accuracy, ")");

          NoGradGuard no_grad;
          Tensor one = narrow(test.ids, 0, 0, 1);
          nn::Attention a = model.forward(one);
          std::vector<std::string> labels = labels_of(select(one, 0, 0));
          std::vector<std::string> answers = labels_of(select(argmax(a.output.value(), -1), 0, 0));
          std::printf("a test sequence: %s; predicted successors:", course::join(labels).c_str());
          for (const std::string& s : answers) std::printf(" %s", s.c_str());
          std::printf("\nrow = a token, its brightest column = the token it attends to (its successor):\n");
          Tensor w = select(a.weights.value(), 0, 0);
          course::print_heatmap(std::cout, w, {.title = "", .row_labels = labels, .col_labels = labels});
          course::write_heatmap_svg(
              lesson.figure("successor_weights", "each token looks at the next larger token of its sequence"),
              w,
              {.title = "Attention to the next larger token",
               .row_labels = labels,
               .col_labels = labels,
               .low = 0,
               .high = 1});
        }
      });
}
