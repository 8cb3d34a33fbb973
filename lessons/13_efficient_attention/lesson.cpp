// Lesson 13: efficient attention.
//
// Attention compares every query with every key: for T queries and S keys the
// scores are a (T, S) matrix per head, so time and memory grow as T^2. At
// T = 4096 with 2 heads that is 32 million scores, 134 MB in float32, and the
// backward wants the softmax's output kept too. Four ways around it:
//
//   sliding window  each query sees only the w keys nearest it      O(T w)
//   strided         the recent keys plus every l-th one (sparse)    O(T sqrt(T))
//   linear          softmax replaced by a feature map, so the sum
//                   over keys factors into a running state          O(T d e)
//   fused           the same softmax, tile by tile with an online
//                   softmax: exact, with memory O(T) not O(T^2)
//
// The masks of the first two are dense (T, S) tensors in heed (the pattern is
// sparse, the work is not); the fused kernel skips the tiles a window hides,
// which is where a window saves time. We build each piece (the window's mask,
// linear attention's recurrence, the online softmax's merge), measure time and
// memory against T, then train each on a task whose answer lies far away.
#include "lessons/common/lesson.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "lessons/13_efficient_attention/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/progress.h"
#include "lessons/common/svg.h"
#include "nn/nn.h"

using namespace heed;

namespace {

// A (T, S) mask as characters: "█" a key the query sees, "·" a hidden one.
void print_pattern(const char* title, const Tensor& mask) {
  std::printf("  %s\n", title);
  for (int64_t i = 0; i < mask.size(0); ++i) {
    std::printf("    ");
    for (int64_t j = 0; j < mask.size(1); ++j) std::printf("%s", mask.at({i, j}) != 0 ? "·" : "█");
    std::printf("\n");
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// ------------------------------------------------------------- the variants
// Each takes q, k, v: (B, H, T, Dh) and returns out: (B, H, T, Dh), causal (a
// decoder's self-attention: query i sees keys <= i, and no more for the sparse ones).
constexpr int64_t kWindow = 64, kStride = 32;

struct Variant {
  const char* name;
  std::function<Variable(const Variable&, const Variable&, const Variable&)> attend;
};

std::vector<Variant> variants(int64_t window, int64_t stride) {
  return {
      {"full",
       [](const Variable& q, const Variable& k, const Variable& v) {
         return nn::scaled_dot_product_attention(q, k, v, nn::causal_mask(q.size(-2))).output;
       }},
      {"sliding window",
       [window](const Variable& q, const Variable& k, const Variable& v) {
         return nn::sliding_window_attention(q, k, v, window).output;
       }},
      {"strided", [stride](const Variable& q, const Variable& k,
                           const Variable& v) { return nn::strided_attention(q, k, v, stride).output; }},
      {"linear", [](const Variable& q, const Variable& k,
                    const Variable& v) { return nn::linear_attention(q, k, v, /*causal=*/true); }},
      {"fused", [](const Variable& q, const Variable& k,
                   const Variable& v) { return nn::fused_attention(q, k, v, {.causal = true}); }},
      {"fused window",
       [window](const Variable& q, const Variable& k, const Variable& v) {
         return nn::fused_attention(q, k, v, {.causal = true, .window_left = window - 1});
       }},
  };
}

struct Cost {
  double seconds = 0;  // the fastest of the repeats, forward + backward
  double bytes = 0;    // heed's peak live tensor storage during them, beyond q, k, v
};

Cost measure(const Variant& variant, const Tensor& q0, const Tensor& k0, const Tensor& v0, int repeats) {
  Cost cost{std::numeric_limits<double>::infinity(), 0};
  for (int r = 0; r < repeats; ++r) {
    Variable q(clone(q0), true), k(clone(k0), true), v(clone(v0), true);
    detail::reset_peak_storage_bytes();
    const int64_t before = detail::live_storage_bytes();
    const auto start = std::chrono::steady_clock::now();
    sum(variant.attend(q, k, v)).backward();
    cost.seconds = std::min(cost.seconds, seconds_since(start));
    cost.bytes = double(detail::peak_storage_bytes() - before);
  }
  return cost;
}

// ------------------------------------------------------------- a far cue
// Sequences of T tokens: distractors (ids C+1..V-1), one marker id 1..C at a
// random position in the first half, and a last token 0 that asks "which
// marker?". The label is the marker's class; the answer is read at the last
// position only, which must attend at least T/2 positions back to find it.
struct FarCue {
  Tensor ids, labels;  // (B, T), (B,)
};

FarCue far_cue(int64_t batch, int64_t T, int64_t classes, int64_t vocab, Generator& gen) {
  FarCue data{zeros({batch, T}), zeros({batch})};
  for (int64_t b = 0; b < batch; ++b) {
    float* row = data.ids.data() + b * T;
    for (int64_t t = 0; t + 1 < T; ++t) row[t] = float(classes + 1 + gen.randint(vocab - classes - 1));
    const int64_t label = gen.randint(classes);
    row[gen.randint(T / 2)] = float(1 + label);
    data.labels.data()[b] = float(label);
  }
  return data;
}

// Embedding -> one attention layer (one head, projections q, k, v) -> the last
// position's output -> Linear to the classes.
class FarCueModel : public nn::Module {
 public:
  FarCueModel(const Variant& variant, int64_t vocab, int64_t dim, int64_t classes, uint64_t seed)
      : Module("FarCueModel"), variant_(variant), dim_(dim) {
    Generator gen(seed);
    embedding = register_module(
        "embedding", std::make_shared<nn::Embedding>(
                         nn::EmbeddingOptions{.num_embeddings = vocab, .embedding_dim = dim}, gen));
    for (auto [name, proj] : {std::pair{"q_proj", &q_proj}, {"k_proj", &k_proj}, {"v_proj", &v_proj}})
      *proj = register_module(name, std::make_shared<nn::Linear>(
                                        nn::LinearOptions{.in_features = dim, .out_features = dim}, gen));
    classifier = register_module(
        "classifier",
        std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = dim, .out_features = classes}, gen));
  }

  // ids: (B, T)  ->  logits (B, C)
  Variable forward(const Tensor& ids) {
    const int64_t B = ids.size(0), T = ids.size(1);
    Variable x = embedding->forward(ids);  // (B, T, D), as one head: (B, 1, T, D)
    auto head = [&](const std::shared_ptr<nn::Linear>& proj) {
      return reshape(proj->forward(x), {B, 1, T, dim_});
    };
    Variable out = variant_.attend(head(q_proj), head(k_proj), head(v_proj));  // (B, 1, T, D)
    return classifier->forward(reshape(narrow(out, 2, T - 1, 1), {B, dim_}));
  }

  std::shared_ptr<nn::Embedding> embedding;
  std::shared_ptr<nn::Linear> q_proj, k_proj, v_proj, classifier;

 private:
  Variant variant_;
  int64_t dim_;
};

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 13, .topic = "efficient_attention", .title = "efficient attention"},
      [](const course::Lesson& lesson) {
        // -----------------------------------------------------------
        lesson.section(1, "the quadratic cost");
        std::printf(
            "scores = q k^T / sqrt(Dh):  (B, H, T, Dh) x (B, H, Dh, S)  ->  (B, H, T, S)\n"
            "weights = softmax(scores), out = weights v:  (B, H, T, S) x (B, H, S, Dh)  ->  (B, H, T, Dh)\n"
            "The backward needs the weights, so the forward keeps them: per head, T x S floats.\n\n");
        for (int64_t T : {512, 1024, 2048, 4096})
          std::printf(
              "  T = %4lld, 2 heads: one (T, T) matrix is %7.1f MB; q, k and v together %5.2f MB (Dh 32)\n",
              (long long)T, 2.0 * T * T * 4 / 1e6, 3.0 * 2 * T * 32 * 4 / 1e6);

        // -----------------------------------------------------------
        lesson.section(2, "sparse patterns: sliding window and strided");
        std::printf(
            "A mask hides keys (1 hides, as everywhere in heed). With the T queries the last T of\n"
            "S positions, query i sits at p_i = S - T + i; a band (left, right) lets it see\n"
            "  p_i - left <= j <= p_i + right\n"
            "A causal window of w keys is the band (w - 1, 0); a centred one (w / 2, (w - 1) / 2).\n"
            "Strided (Child et al. 2019) adds every l-th key back to the band of the l recent ones:\n"
            "any key reaches any later query in two layers.\n\n");
        const int64_t P = 12;
        print_pattern("causal (full attention), T = S = 12:", nn::causal_mask(P));
        print_pattern("causal sliding window, w = 4:", nn::sliding_window_mask(P, 4));
        print_pattern("causal strided, l = 4:", nn::strided_mask(P, 4));
        std::printf(
            "\nEach row sees at most w keys in the window, about 2 sqrt(T) in the strided pattern\n"
            "with l ~ sqrt(T): the useful work is O(T w) or O(T sqrt(T)). Here the masks are\n"
            "dense (T, S) tensors, so sliding_window_attention still computes all T x S scores;\n"
            "only a kernel that skips hidden tiles (the fused one, section 4) saves the time.\n\n");
        course::compare_exercise(
            lesson, 1, "sliding-window mask, T 9, S 14, w 5, causal and centred",
            [] {
              return cat({lesson13::sliding_window_mask(9, 14, 5, true),
                          lesson13::sliding_window_mask(9, 14, 5, false)},
                         0);
            },
            cat({nn::sliding_window_mask(9, 5, true, 14), nn::sliding_window_mask(9, 5, false, 14)}, 0), 0.0);

        // -----------------------------------------------------------
        lesson.section(3, "linear attention: the sum over keys factors");
        std::printf(
            "Replace exp(q . k) by phi(q) . phi(k), phi(x) = elu(x) + 1 > 0 (Katharopoulos et al. 2020):\n"
            "  out_i = sum_j (phi(q_i) . phi(k_j)) v_j / sum_j phi(q_i) . phi(k_j)\n"
            "        = phi(q_i)^T (sum_j phi(k_j) v_j^T) / phi(q_i)^T (sum_j phi(k_j))\n"
            "          KV: (d, e) and z: (d), made once; no (T, S) matrix.\n"
            "Causal: the sums run over j <= i, so they are an RNN's state:\n"
            "  KV_i = KV_{i-1} + phi(k_i) v_i^T     z_i = z_{i-1} + phi(k_i)\n"
            "  out_i = phi(q_i)^T KV_i / (phi(q_i)^T z_i)        O(T d e) time, O(d e) state\n\n");
        {
          Generator gen(lesson.seed() + 3);
          const int64_t T = 50, d = 8, e = 8;
          Tensor q = randn({T, d}, gen), k = randn({T, d}, gen), v = randn({T, e}, gen);
          // The same numbers the quadratic way: the (T, T) similarities, causal, normalized.
          Tensor sim = matmul(elu(q) + 1.0f, transpose(elu(k) + 1.0f, 0, 1)) * (1.0f - nn::causal_mask(T));
          Tensor quadratic = matmul(sim / (sum(sim, {1}, true) + 1e-6f), v);
          Tensor heeds = nn::linear_attention(Variable(q), Variable(k), Variable(v), /*causal=*/true).value();
          std::printf(
              "  T %lld, d %lld, e %lld: the recurrence against the (T, T) matrix: max |difference| %.1e\n",
              (long long)T, (long long)d, (long long)e, amax(abs(heeds - quadratic)).item());
          std::printf("  decoding keeps only KV (%lld floats) and z (%lld), however long the prefix\n\n",
                      (long long)(d * e), (long long)d);
          course::compare_exercise(
              lesson, 2, "causal linear attention, T 50, d 8, e 8",
              [&] { return lesson13::causal_linear_attention(q, k, v); }, heeds, 1e-4);
        }
        std::printf(
            "\nThe price: phi(q) . phi(k) is a much blunter similarity than exp(q . k). A softmax\n"
            "can put almost all its weight on one key; linear attention spreads it. Section 6\n"
            "shows what that costs on a task.\n");

        // -----------------------------------------------------------
        lesson.section(4, "fused attention and the online softmax");
        std::printf(
            "The fused kernel computes the exact softmax attention, but walks the keys in tiles\n"
            "and never holds a (T, S) matrix. Per query it keeps three things while it goes:\n"
            "  m  the largest score so far    l = sum e^(s - m)    acc = sum e^(s - m) v   (e)\n"
            "A new tile (m_b, l_b, acc_b) merges in with m = max(m_a, m_b):\n"
            "  l = l_a e^(m_a - m) + l_b e^(m_b - m),   acc = acc_a e^(m_a - m) + acc_b e^(m_b - m)\n"
            "and at the end out = acc / l. The forward saves log-sum-exp m + log l per query,\n"
            "(B, H, T); the backward recomputes the weights tile by tile from it. Memory O(T d).\n\n");
        {
          Generator gen(lesson.seed() + 4);
          const int64_t T = 6, S = 40, Dh = 8, block = 16;
          Tensor q = randn({1, T, Dh}, gen), k = randn({1, S, Dh}, gen), v = randn({1, S, Dh}, gen);
          Tensor heeds = select(nn::fused_attention(Variable(q), Variable(k), Variable(v)).value(), 0, 0);
          Tensor scores =
              matmul(select(q, 0, 0), transpose(select(k, 0, 0), 0, 1)) * (1.0f / std::sqrt(float(Dh)));
          std::printf("  query 0's scores in tiles of %lld keys:", (long long)block);
          for (int64_t start = 0; start < S; start += block) {
            Tensor tile = narrow(select(scores, 0, 0), 0, start, std::min(block, S - start));
            std::printf("  [%lld, %lld) max %.2f", (long long)start, (long long)(start + tile.numel()),
                        amax(tile).item());
          }
          std::printf("\n\n");
          course::compare_exercise(
              lesson, 3, "online softmax over tiles of 16 keys, against fused_attention",
              [&] {
                Tensor v2 = select(v, 0, 0);
                lesson13::SoftmaxBlock running = lesson13::softmax_block(
                    contiguous(narrow(scores, 1, 0, block)), contiguous(narrow(v2, 0, 0, block)));
                for (int64_t start = block; start < S; start += block) {
                  const int64_t n = std::min(block, S - start);
                  running = lesson13::merge_blocks(
                      running, lesson13::softmax_block(contiguous(narrow(scores, 1, start, n)),
                                                       contiguous(narrow(v2, 0, start, n))));
                }
                return running.acc / unsqueeze(running.l, 1);
              },
              heeds, 1e-5);
        }

        // -----------------------------------------------------------
        lesson.section(5, "time and memory against the sequence length");
        const int64_t B = 1, H = 2, Dh = 32;
        const int64_t max_T = lesson.pick<int64_t>(2048, 4096);
        const int repeats = lesson.pick(2, 3);
        std::printf(
            "B %lld, H %lld, Dh %lld, causal; window w = %lld, stride l = %lld. Forward + backward of\n"
            "sum(out), the fastest of %d runs; memory is heed's peak live tensor storage during a run\n"
            "beyond q, k and v (detail::peak_storage_bytes). %d thread(s).\n\n",
            (long long)B, (long long)H, (long long)Dh, (long long)kWindow, (long long)kStride, repeats,
            num_threads());
        const std::vector<Variant> all = variants(kWindow, kStride);
        std::vector<course::Series> times, memories;
        for (const Variant& v : all) times.push_back({v.name, {}, {}}), memories.push_back({v.name, {}, {}});
        std::vector<std::vector<Cost>> table;
        std::vector<int64_t> lengths;
        Generator gen(lesson.seed() + 5);
        {  // one untimed run of each first: threads started, buffers pooled
          Tensor x = randn({B, H, 64, Dh}, gen);
          for (const Variant& v : all) measure(v, x, x, x, 1);
        }
        for (int64_t T = 64; T <= max_T; T *= 2) {
          Tensor q = randn({B, H, T, Dh}, gen), k = randn({B, H, T, Dh}, gen), v = randn({B, H, T, Dh}, gen);
          std::vector<Cost> row;
          for (size_t i = 0; i < all.size(); ++i) {
            row.push_back(measure(all[i], q, k, v, repeats));
            times[i].x.push_back(double(T)), times[i].y.push_back(std::max(row.back().seconds * 1e3, 1e-3));
            memories[i].x.push_back(double(T)),
                memories[i].y.push_back(std::max(row.back().bytes / 1e6, 1e-3));
          }
          table.push_back(std::move(row));
          lengths.push_back(T);
        }
        for (int what = 0; what < 2; ++what) {
          std::printf("  %s\n  %6s", what == 0 ? "time (ms), forward + backward" : "peak memory (MB)", "T");
          for (const Variant& v : all) std::printf(" %14s", v.name);
          std::printf("\n");
          for (size_t r = 0; r < table.size(); ++r) {
            std::printf("  %6lld", (long long)lengths[r]);
            for (const Cost& c : table[r])
              std::printf(" %14.2f", what == 0 ? c.seconds * 1e3 : c.bytes / 1e6);
            std::printf("\n");
          }
          std::printf("\n");
        }
        course::write_line_plot_svg(
            lesson.figure("time",
                          "forward + backward time against T, log-log: full and the masked patterns climb "
                          "with slope ~2, linear and the fused window with ~1"),
            times,
            {.title = "attention, forward + backward: time against length",
             .x_label = "sequence length T",
             .y_label = "milliseconds",
             .log_x = true,
             .log_y = true});
        course::write_line_plot_svg(
            lesson.figure("memory",
                          "peak tensor memory against T, log-log: full and masked attention hold (T, T) "
                          "matrices (slope 2), fused and linear do not (slope 1)"),
            memories,
            {.title = "attention, forward + backward: peak tensor memory against length",
             .x_label = "sequence length T",
             .y_label = "MB",
             .log_x = true,
             .log_y = true});
        {
          const std::vector<Cost>& last = table.back();
          const double T = double(lengths.back());
          std::printf(
              "On a log-log plot a power law is a line: doubling T multiplies full attention's\n"
              "memory by 4 (slope 2), the fused and linear ones' by 2 (slope 1). At T = %.0f:\n"
              "  full %.0f MB against fused %.1f MB (%.0fx less) and linear %.1f MB;\n"
              "  the masked window and strided variants hold the same dense (T, S) tensors as full;\n"
              "  the fused window skips hidden tiles: %.1f ms against fused's %.1f ms and full's %.1f "
              "ms.\n\n",
              T, last[0].bytes / 1e6, last[4].bytes / 1e6, last[0].bytes / std::max(last[4].bytes, 1.0),
              last[3].bytes / 1e6, last[5].seconds * 1e3, last[4].seconds * 1e3, last[0].seconds * 1e3);
        }

        // -----------------------------------------------------------
        lesson.section(6, "accuracy when the answer is far away");
        const int64_t T = lesson.pick<int64_t>(64, 256), classes = 4, vocab = 32, dim = 32;
        const int64_t steps = lesson.pick<int64_t>(100, 200), batch = 32, window = 32, stride = 16;
        std::printf(
            "%lld tokens: distractors, one marker (one of %lld classes) somewhere in the first half,\n"
            "and a final \"which marker?\" token whose output is classified. One attention layer\n"
            "(one head, D %lld) on embeddings, causal; %lld Adam steps of %lld sequences. Window\n"
            "w = %lld and stride l = %lld: the last query's window ends %lld positions short of the\n"
            "first half, and the stride sees one position in %lld.\n\n",
            (long long)T, (long long)classes, (long long)dim, (long long)steps, (long long)batch,
            (long long)window, (long long)stride, (long long)(T / 2 - window), (long long)stride);
        Generator test_gen(lesson.seed() * 7 + 1);
        const FarCue test = far_cue(512, T, classes, vocab, test_gen);
        const std::vector<Variant> trained = variants(window, stride);
        std::vector<double> accuracies(trained.size(), 0), train_seconds(trained.size(), 0);
        {
          course::Progress progress({.label = "far cue", .epochs = 5, .steps_per_epoch = steps});
          for (size_t i = 0; i < trained.size(); ++i) {
            if (std::string(trained[i].name) == "fused window")
              continue;  // the same numbers as the masked window
            FarCueModel model(trained[i], vocab, dim, classes, lesson.seed() + 1);
            nn::Adam adam(model.named_parameters(), {.lr = 3e-3});
            Generator data_gen(lesson.seed() * 7 + 2);  // the same batches for every variant
            for (int64_t step = 0; step < steps; ++step) {
              FarCue data = far_cue(batch, T, classes, vocab, data_gen);
              const auto start = std::chrono::steady_clock::now();
              adam.zero_grad();
              Variable loss = cross_entropy(model.forward(data.ids), data.labels);
              loss.backward();
              nn::clip_grad_norm(model.parameters(), 1.0);
              adam.step();
              train_seconds[i] += seconds_since(start);
              progress.step(loss.value().item(), data.ids.numel());
            }
            NoGradGuard no_grad;
            accuracies[i] = mean(eq(argmax(model.forward(test.ids).value(), -1), test.labels)).item();
            char note[80];
            std::snprintf(note, sizeof note, "%s: test accuracy %.1f%%", trained[i].name,
                          100 * accuracies[i]);
            progress.end_epoch(note);
          }
        }
        std::printf("\n  %-16s %15s %15s\n", "attention", "test accuracy", "train time (s)");
        for (size_t i = 0; i < trained.size(); ++i) {
          if (std::string(trained[i].name) == "fused window") continue;
          std::printf("  %-16s %14.1f%% %15.2f\n", trained[i].name, 100 * accuracies[i], train_seconds[i]);
        }
        std::printf("  (chance: %.0f%%; strided sees the marker 1 time in %lld: about %.0f%%)\n\n",
                    100.0 / classes, (long long)stride, 100 * (1.0 / stride + (1 - 1.0 / stride) / classes));
        std::printf(
            "Full and fused attention are the same function (fused only changes the memory),\n"
            "so they learn alike. The window cannot see the marker: no training helps; the\n"
            "strided pattern sees it only when the distance is a multiple of l (a second layer\n"
            "would relay it). Linear attention %s: its weights are blunter than a softmax's,\n"
            "but a marker that differs from every distractor in content can still be singled\n"
            "out by phi(k) features the distractors lack. Efficient attention is a trade: the\n"
            "fused kernel gives up nothing, the sparse patterns give up what a query can see,\n"
            "and linear attention gives up the sharpness of its weights.\n",
            accuracies[3] >= 0.9 ? "found it too" : "did not find it in time");
        // Accuracy, never time: full attention must find the marker.
        HEED_CHECK(accuracies[0] >= 0.9, "lesson 13: full attention did not learn the far-cue task (",
                   100 * accuracies[0], "%)");
      });
}
