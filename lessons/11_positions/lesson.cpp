// Lesson 11: positions.
//
// Attention compares contents; nothing in q kᵀ says where a token sits.
// Shuffle the tokens and self-attention shuffles its outputs the same way: it
// sees a set, not a sequence. Order has to be put in. This lesson builds the
// four ways heed has (a fixed sinusoidal table, a learned table, Shaw's
// relative positions, rotary embedding), trains each on a task that is only
// about order (say the token k places back), and tests them on sequences
// longer than any they were trained on.
#include "lessons/common/lesson.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lessons/11_positions/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/heatmap.h"
#include "lessons/common/progress.h"
#include "lessons/common/svg.h"
#include "nn/nn.h"
#include "tensor/error.h"

using namespace heed;

namespace {

// ------------------------------------------------------------- section 6
// Sequences of T tokens of 0..V-1; at position t the answer is x_{t-k}
// (none for t < k: target -1, not counted).
struct LookBackBatch {
  Tensor ids, targets;  // (B, T)
};

LookBackBatch look_back_batch(int64_t B, int64_t T, int64_t V, int64_t k, Generator& gen) {
  LookBackBatch batch{empty({B, T}), empty({B, T})};
  for (int64_t i = 0; i < B * T; ++i) batch.ids.data()[i] = float(gen.randint(V));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      batch.targets.data()[b * T + t] = t < k ? -1.0f : batch.ids.data()[b * T + t - k];
  return batch;
}

enum class Position { none, sinusoidal, learned, relative, rotary };
constexpr Position kPositions[] = {Position::none, Position::sinusoidal, Position::learned,
                                   Position::relative, Position::rotary};
const char* name_of(Position p) {
  switch (p) {
    case Position::none:
      return "none";
    case Position::sinusoidal:
      return "sinusoidal";
    case Position::learned:
      return "learned";
    case Position::relative:
      return "relative";
    case Position::rotary:
      return "rotary";
  }
  return "?";
}

// Token embedding (+ a position table for sinusoidal and learned) -> one
// causal attention head (with relative positions or rotary inside it for
// those two) with a residual -> a linear readout.
class LookBackModel : public nn::Module {
 public:
  LookBackModel(Position kind, int64_t V, int64_t D, int64_t max_length, int64_t clip, Generator& gen)
      : nn::Module("LookBack"), kind_(kind) {
    embed = register_module("embed", std::make_shared<nn::Embedding>(
                                         nn::EmbeddingOptions{.num_embeddings = V, .embedding_dim = D}, gen));
    if (kind == Position::sinusoidal)
      sinusoidal = register_module(
          "sinusoidal", std::make_shared<nn::SinusoidalPositionalEncoding>(
                            nn::PositionalEncodingOptions{.embedding_dim = D, .max_length = max_length}));
    if (kind == Position::learned)
      learned = register_module(
          "learned",
          std::make_shared<nn::LearnedPositionalEmbedding>(
              nn::LearnedPositionalEmbeddingOptions{.embedding_dim = D, .max_length = max_length}, gen));
    nn::MultiHeadAttentionOptions options{.embed_dim = D, .num_heads = 1};
    options.rotary = kind == Position::rotary;
    if (kind == Position::relative) options.relative_positions = clip;
    attention = register_module("attention", std::make_shared<nn::MultiHeadAttention>(options, gen));
    readout = register_module(
        "readout", std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = D, .out_features = V}, gen));
  }

  // ids: (B, T)  ->  logits (B, T, V), weights (B, 1, T, T)
  nn::Attention forward(const Tensor& ids) {
    Variable x = embed->forward(ids);
    if (sinusoidal) x = sinusoidal->forward(x);
    if (learned) x = learned->forward(x);
    nn::Attention a = attention->forward(x, {.causal = true});
    return {readout->forward(x + a.output), a.weights};
  }

  Position kind() const { return kind_; }
  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::SinusoidalPositionalEncoding> sinusoidal;
  std::shared_ptr<nn::LearnedPositionalEmbedding> learned;
  std::shared_ptr<nn::MultiHeadAttention> attention;
  std::shared_ptr<nn::Linear> readout;

 private:
  Position kind_;
};

double accuracy_of(const Tensor& logits, const Tensor& targets) {
  Tensor counted = ge(targets, scalar(0.0f));
  return sum(eq(argmax(logits, -1), targets) * counted).item() / sum(counted).item();
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 11, .topic = "positions", .title = "positions"},
      [](const course::Lesson& lesson) {
        Generator gen(lesson.seed() + 11);

        // ================================================================== 1
        lesson.section(1, "attention sees a set");
        // Permute the rows of x with a permutation P. Each query's scores against
        // the keys are permuted the same way, the softmax does not care about the
        // order of its entries, and so attention(P x) = P attention(x): self-attention
        // without positions is permutation-equivariant. "dog bites man" and "man
        // bites dog" give the same three vectors, only in another order.
        {
          nn::MultiHeadAttention mha({.embed_dim = 8, .num_heads = 2}, gen);
          Tensor x = randn({1, 6, 8}, gen);
          Tensor perm = {5, 2, 0, 4, 1, 3};
          Tensor out = mha.forward(x).output.value();
          Tensor out_of_permuted = mha.forward(index_select(x, 1, perm)).output.value();
          std::printf("max |attention(P x) - P attention(x)| = %.1e\n",
                      amax(abs(out_of_permuted - index_select(out, 1, perm))).item());
        }

        // ================================================================== 2
        lesson.section(2, "sinusoidal: a fixed table added to the embeddings");
        // Vaswani et al. add to the token at position p a vector of D/2 sine and
        // cosine pairs at geometrically spaced frequencies w_i = 10000^(-2i/D):
        //
        //   PE(p, 2i) = sin(p w_i),  PE(p, 2i+1) = cos(p w_i)        table (max_length, D)
        //
        // Each pair is a point on a circle turning at its own speed, so PE(p + k)
        // is PE(p) rotated pair by pair by the angles k w_i: a linear map that
        // depends on k only. Hence PE(p) . PE(p + k) = sum_i cos(k w_i), the same for
        // every p: the table encodes distances, and a model can learn to use them.
        {
          Tensor pe = nn::sinusoidal_table(64, 32);  // (64, 32)
          std::cout << "PE rows 0..3, dims 0..5:\n" << narrow(narrow(pe, 0, 0, 4), 1, 0, 6) << "\n";
          for (int64_t k : {1, 3, 10}) {
            std::printf("PE(p) . PE(p + %2lld) for p = 0, 10, 40:", (long long)k);
            for (int64_t p : {0, 10, 40})
              std::printf(" %.4f", sum(select(pe, 0, p) * select(pe, 0, p + k)).item());
            std::printf("\n");
          }
          course::write_heatmap_svg(
              lesson.figure("sinusoidal_table",
                            "the sinusoidal table: fast waves in the first features, slow ones in the last"),
              transpose(pe, 0, 1),
              {.title = "The sinusoidal table: dims (rows) over positions",
               .x_label = "position",
               .y_label = "dimension",
               .low = -1,
               .high = 1});
          course::compare_exercise(
              lesson, 1, "sinusoidal table (64, 32)", [] { return lesson11::sinusoidal_table(64, 32); }, pe);
        }

        // ================================================================== 3
        lesson.section(3, "learned: a trained table");
        // The simplest alternative (BERT, GPT-2): a (max_length, D) parameter, row p
        // added to the token at p, trained with the rest. It can learn whatever the
        // task needs, but only for the positions that training reached: a row never
        // seen keeps its random initial value, and past max_length there is no row.
        {
          nn::LearnedPositionalEmbedding learned({.embedding_dim = 8, .max_length = 16, .seed = 1});
          try {
            learned.forward(zeros({1, 20, 8}));
          } catch (const Error& e) {
            std::printf("a sequence of 20 through a table of 16 rows: %s\n", e.what());
          }
        }

        // ================================================================== 4
        lesson.section(4, "relative (Shaw et al.): distances inside attention");
        // Instead of marking tokens, mark pairs: key j seen from query i gets a
        // learned vector for the distance j - i, clipped to [-k, k] (every distance
        // beyond k shares one vector), added to the key in the score and to the value:
        //
        //   e_ij = q_i . (k_j + a^K[id(i, j)]) / sqrt(Dh),   z_i = sum_j w_ij (v_j + a^V[id(i, j)])
        //   id(i, j) = clip(j - i, -k, k) + k            ids (T, S), tables (2k + 1, Dh)
        //
        // Only distances exist, so a rule learned at one position holds at every
        // other, at any length. The ids for T = S = 6 and k = 2 (with heed's
        // RelativePositions: a key table 0, 1, .., 2k of width 1 and queries of 1
        // make its key scores the ids themselves):
        {
          const int64_t k = 2, T = 6;
          nn::RelativePositions relative({.max_distance = k, .head_dim = 1, .seed = 0});
          relative.keys.set_value(reshape(arange(2 * k + 1), {2 * k + 1, 1}));
          Tensor ids = reshape(relative.key_scores(ones({1, 1, T, 1}), T, 0).value(), {T, T});
          std::cout << ids << "\n";
          course::compare_exercise(
              lesson, 2, "relative distance ids (T = S = 6, k = 2)",
              [&] { return lesson11::relative_distance_ids(T, T, 0, k); }, ids, 0);
        }

        // ================================================================== 5
        lesson.section(5, "rotary (RoPE): turn the queries and keys");
        // Su et al. rotate instead of add. Pair m of a head, dims (2m, 2m + 1), of
        // the query or key at position p turns by p theta_m, theta_m = 10000^(-2m/Dh):
        //
        //   x'_{2m}   = x_{2m} cos(p theta_m) - x_{2m+1} sin(p theta_m)
        //   x'_{2m+1} = x_{2m} sin(p theta_m) + x_{2m+1} cos(p theta_m)      (B, H, T, Dh) -> same
        //
        // Rotating q by angle a and k by angle b changes their dot product as
        // rotating by b - a would: q'_i . k'_j depends on the contents and on j - i
        // only, the relative idea with no table, and norms are kept.
        {
          Generator local(5);
          Tensor q = randn({1, 1, 1, 8}, local), k = randn({1, 1, 1, 8}, local);
          // The same q and k placed at all 12 positions, then turned.
          Tensor qs = nn::rotary(expand(q, {1, 1, 12, 8})).value(),
                 ks = nn::rotary(expand(k, {1, 1, 12, 8})).value();
          auto score = [&](int64_t i, int64_t j) { return sum(select(qs, 2, i) * select(ks, 2, j)).item(); };
          std::printf("q . k at positions (3, 1): %.5f, (10, 8): %.5f; at (0, 0): %.5f, (7, 7): %.5f\n",
                      score(3, 1), score(10, 8), score(0, 0), score(7, 7));
          std::printf("|q| = %.5f, |q turned at position 11| = %.5f\n", std::sqrt(sum(q * q).item()),
                      std::sqrt(sum(select(qs, 2, 11) * select(qs, 2, 11)).item()));
          Tensor x = randn({2, 3, 5, 8}, gen);
          course::compare_exercise(
              lesson, 3, "rotary on (2, 3, 5, 8), offset 4",
              [&] { return lesson11::apply_rotary(x, 4).value(); }, nn::rotary(x, 4).value());
        }

        // ================================================================== 6
        lesson.section(6, "a task that is only about order: the token 3 places back");
        // At position t, say x_{t-3}. One causal attention head, D = 32, trained on
        // sequences of 16 tokens of 0..15, then tested on lengths 16 to 64. The
        // query at t must find the key at t - 3, which only positions can tell
        // apart from the others: without them the model can at best guess (1/16
        // is 6%). Relative positions are clipped at k = 4.
        {
          const int64_t V = 16, D = 32, T = 16, back = 3, clip = 4, B = 32;
          const std::vector<int64_t> lengths = {16, 24, 32, 48, 64};
          const int64_t epochs = lesson.pick(4, 15), steps = 100;
          std::vector<LookBackBatch> tests;
          for (int64_t L : lengths) tests.push_back(look_back_batch(lesson.pick(100, 400), L, V, back, gen));

          std::vector<std::vector<double>> accuracy;  // [position kind][test length]
          std::vector<std::unique_ptr<LookBackModel>> models;
          for (Position kind : kPositions) {
            std::printf("%s:\n", name_of(kind));
            auto model = std::make_unique<LookBackModel>(kind, V, D, lengths.back(), clip, gen);
            nn::Adam opt(model->named_parameters(), {.lr = 3e-3});
            nn::CrossEntropyLoss criterion({.ignore_index = -1});
            course::Progress progress({.label = "training", .epochs = epochs, .steps_per_epoch = steps});
            for (int64_t epoch = 0; epoch < epochs; ++epoch) {
              for (int64_t step = 0; step < steps; ++step) {
                LookBackBatch batch = look_back_batch(B, T, V, back, gen);
                Variable loss = criterion(model->forward(batch.ids).output, batch.targets);
                opt.zero_grad();
                loss.backward();
                opt.step();
                progress.step(loss.item(), B * T);
              }
              NoGradGuard no_grad;
              char note[48];
              std::snprintf(note, sizeof note, "accuracy at 16: %.1f%%",
                            100 * accuracy_of(model->forward(tests[0].ids).output.value(), tests[0].targets));
              progress.end_epoch(note);
            }
            progress.finish();
            NoGradGuard no_grad;
            std::vector<double> row;
            for (const LookBackBatch& test : tests)
              row.push_back(accuracy_of(model->forward(test.ids).output.value(), test.targets));
            accuracy.push_back(row);
            models.push_back(std::move(model));
          }

          std::printf("\ntest accuracy (trained on length 16):\n%-12s", "positions");
          for (int64_t L : lengths) std::printf(" %7lld", (long long)L);
          std::printf("\n");
          std::vector<course::Series> series;
          for (size_t m = 0; m < models.size(); ++m) {
            std::printf("%-12s", name_of(kPositions[m]));
            course::Series s{.name = name_of(kPositions[m])};
            for (size_t l = 0; l < lengths.size(); ++l) {
              std::printf(" %6.1f%%", 100 * accuracy[m][l]);
              s.x.push_back(double(lengths[l]));
              s.y.push_back(100 * accuracy[m][l]);
            }
            std::printf("\n");
            series.push_back(s);
          }
          course::write_line_plot_svg(lesson.figure("extrapolation",
                                                    "accuracy beyond the trained length: relative and rotary "
                                                    "hold, learned and sinusoidal fall"),
                                      series,
                                      {.title = "Token 3 places back: trained on length 16, tested longer",
                                       .x_label = "test sequence length",
                                       .y_label = "accuracy (%)"});
          // What to look for. At length 16 every kind of position solves it. Longer:
          //  - learned is right only where its rows were trained, positions < 16
          //    (13 of the 21 answers at length 24: 62%), and untrained rows after;
          //  - sinusoidal has rows for every position, but the query and key maps
          //    were only fitted on the first 16, and fade beyond;
          //  - rotary sees positions only as angle differences, the ones it was
          //    trained on, and holds up, losing a little as new angle
          //    combinations come in at long lengths;
          //  - relative never sees an absolute position at all: 64 is as easy as 16.
          // What the measurements must show, whatever the seed.
          auto at = [&](Position p, size_t l) { return accuracy[size_t(p)][l]; };
          HEED_CHECK(at(Position::none, 0) < 0.5, "lesson 11: without positions the task should fail, got ",
                     at(Position::none, 0));
          for (Position p : {Position::sinusoidal, Position::learned, Position::relative, Position::rotary})
            HEED_CHECK(at(p, 0) > 0.9, "lesson 11: ", name_of(p),
                       " positions should solve the task at the trained "
                       "length, got ",
                       at(p, 0));
          HEED_CHECK(at(Position::relative, lengths.size() - 1) > 0.9,
                     "lesson 11: relative positions should extrapolate to length 64, got ",
                     at(Position::relative, lengths.size() - 1));

          // Where the relative model's head looks on a sequence of 24, longer than any it saw.
          LookBackModel& relative = *models[size_t(Position::relative)];
          Tensor ids = narrow(tests[1].ids, 0, 0, 1);
          Tensor w = select(select(relative.forward(ids).weights.value(), 0, 0), 0, 0);
          std::printf("\n");
          course::print_heatmap(
              std::cout, w,
              {.title = "relative positions on a sequence of 24 (trained on 16): row t looks at t - 3"});
          course::write_heatmap_svg(
              lesson.figure("relative_weights_24",
                            "relative positions at length 24: the weight sits 3 places back on every row"),
              w,
              {.title = "Relative positions, length 24: query t attends to t - 3",
               .x_label = "key position",
               .y_label = "query position",
               .low = 0,
               .high = 1});
        }
      });
}
