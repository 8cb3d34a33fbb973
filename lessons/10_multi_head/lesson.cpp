// Lesson 10: multi-head attention.
//
// One softmax row is one distribution over the keys: a single head that must
// look at two places at once can only average them. Multi-head attention runs
// H attentions side by side, each in its own Dh = D / H slice of learned
// projections, and concatenates what they found. This lesson splits and merges
// heads with views, shows that MultiHeadAttention is H single heads plus an
// output projection, trains heads that learn different relations (the first
// token and the previous token), uses cross-attention as a learned dictionary
// lookup over another sequence, and decodes step by step with a key/value cache.
#include "lessons/common/lesson.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "lessons/10_multi_head/exercises.h"
#include "lessons/common/exercise.h"
#include "lessons/common/heatmap.h"
#include "lessons/common/progress.h"
#include "lessons/common/svg.h"
#include "nn/nn.h"

using namespace heed;

namespace {

double accuracy_of(const Tensor& logits, const Tensor& targets) {
  Tensor counted = ge(targets, scalar(0.0f));  // targets of -1 are not asked for
  return sum(eq(argmax(logits, -1), targets) * counted).item() / sum(counted).item();
}

// ------------------------------------------------------------- section 3
// Sequences of T tokens of 0..V-1; at position t the model answers two
// questions: which token came first (x_0), and which came just before (x_{t-1};
// none at t = 0, target -1, not counted).
struct TwoRelationsBatch {
  Tensor ids, first, previous;  // (B, T) each
};

TwoRelationsBatch two_relations_batch(int64_t B, int64_t T, int64_t V, Generator& gen) {
  TwoRelationsBatch batch{empty({B, T}), empty({B, T}), empty({B, T})};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) batch.ids.data()[b * T + t] = float(gen.randint(V));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      batch.first.data()[b * T + t] = batch.ids.data()[b * T];
      batch.previous.data()[b * T + t] = t == 0 ? -1.0f : batch.ids.data()[b * T + t - 1];
    }
  return batch;
}

// Token and learned position embeddings -> causal multi-head self-attention
// (with a residual) -> two linear readouts, one per question.
class TwoRelationsModel : public nn::Module {
 public:
  TwoRelationsModel(int64_t V, int64_t T, int64_t D, int64_t H, Generator& gen) : nn::Module("TwoRelations") {
    embed = register_module("embed", std::make_shared<nn::Embedding>(
                                         nn::EmbeddingOptions{.num_embeddings = V, .embedding_dim = D}, gen));
    positions = register_module(
        "positions", std::make_shared<nn::LearnedPositionalEmbedding>(
                         nn::LearnedPositionalEmbeddingOptions{.embedding_dim = D, .max_length = T}, gen));
    attention =
        register_module("attention", std::make_shared<nn::MultiHeadAttention>(
                                         nn::MultiHeadAttentionOptions{.embed_dim = D, .num_heads = H}, gen));
    first = register_module(
        "first", std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = D, .out_features = V}, gen));
    previous = register_module("previous", std::make_shared<nn::Linear>(
                                               nn::LinearOptions{.in_features = D, .out_features = V}, gen));
  }

  struct Output {
    Variable first, previous;  // logits (B, T, V)
    Tensor weights;            // (B, H, T, T)
  };
  Output forward(const Tensor& ids) {
    Variable x = positions->forward(embed->forward(ids));  // (B, T, D)
    nn::Attention a = attention->forward(x, {.causal = true});
    Variable h = x + a.output;
    return {first->forward(h), previous->forward(h), a.weights.value()};
  }

  std::shared_ptr<nn::Embedding> embed;
  std::shared_ptr<nn::LearnedPositionalEmbedding> positions;
  std::shared_ptr<nn::MultiHeadAttention> attention;
  std::shared_ptr<nn::Linear> first, previous;
};

struct TwoRelationsResult {
  double first = 0, previous = 0;  // test accuracies
};

TwoRelationsResult train_two_relations(const course::Lesson& lesson, TwoRelationsModel& model,
                                       const TwoRelationsBatch& test, int64_t V, int64_t T, Generator& gen) {
  const int64_t B = 64, epochs = lesson.pick(4, 12), steps = 100;
  nn::Adam opt(model.named_parameters(), {.lr = 5e-3});
  nn::CrossEntropyLoss criterion({.ignore_index = -1});
  course::Progress progress({.label = "training", .epochs = epochs, .steps_per_epoch = steps});
  auto evaluate = [&] {
    NoGradGuard no_grad;
    TwoRelationsModel::Output out = model.forward(test.ids);
    return TwoRelationsResult{accuracy_of(out.first.value(), test.first),
                              accuracy_of(out.previous.value(), test.previous)};
  };
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    for (int64_t step = 0; step < steps; ++step) {
      TwoRelationsBatch batch = two_relations_batch(B, T, V, gen);
      TwoRelationsModel::Output out = model.forward(batch.ids);
      Variable loss = criterion(out.first, batch.first) + criterion(out.previous, batch.previous);
      opt.zero_grad();
      loss.backward();
      opt.step();
      progress.step(loss.item(), B * T);
    }
    TwoRelationsResult r = evaluate();
    char note[80];
    std::snprintf(note, sizeof note, "first %.1f%%, previous %.1f%%", 100 * r.first, 100 * r.previous);
    progress.end_epoch(note);
  }
  progress.finish();
  return evaluate();
}

// ------------------------------------------------------------- section 4
// A dictionary in a sequence: S slots, each a (key, value) pair with distinct
// keys of 0..K-1 and values of 0..V-1; memories hold 3..S pairs, the rest
// padding. T queries, each a key of its memory; the answer is that key's value.
struct LookupBatch {
  Tensor keys, values, padding;  // (B, S): the memory's pairs, 1 at padding
  Tensor queries, answers;       // (B, T)
};

LookupBatch lookup_batch(int64_t B, int64_t S, int64_t T, int64_t K, int64_t V, Generator& gen) {
  LookupBatch batch{zeros({B, S}), zeros({B, S}), zeros({B, S}), empty({B, T}), empty({B, T})};
  std::vector<int64_t> symbols(K);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t length = 3 + gen.randint(S - 2);
    for (int64_t i = 0; i < K; ++i) symbols[i] = i;
    for (int64_t i = 0; i < length; ++i) std::swap(symbols[i], symbols[i + gen.randint(K - i)]);
    std::vector<int64_t> values(length);
    for (int64_t s = 0; s < S; ++s) {
      if (s < length) {
        values[s] = gen.randint(V);
        batch.keys.data()[b * S + s] = float(symbols[s]);
        batch.values.data()[b * S + s] = float(values[s]);
      } else {
        batch.padding.data()[b * S + s] = 1.0f;
      }
    }
    for (int64_t t = 0; t < T; ++t) {
      const int64_t s = gen.randint(length);
      batch.queries.data()[b * T + t] = float(symbols[s]);
      batch.answers.data()[b * T + t] = float(values[s]);
    }
  }
  return batch;
}

// Memory slot s = key_embed(key_s) + value_embed(value_s); query t =
// key_embed(query_t) (the same table: a query is a key). Cross-attention from
// the queries to the memory, then a readout of the value.
class LookupModel : public nn::Module {
 public:
  LookupModel(int64_t K, int64_t V, int64_t D, int64_t H, Generator& gen) : nn::Module("Lookup") {
    key_embed = register_module(
        "key_embed",
        std::make_shared<nn::Embedding>(nn::EmbeddingOptions{.num_embeddings = K, .embedding_dim = D}, gen));
    value_embed = register_module(
        "value_embed",
        std::make_shared<nn::Embedding>(nn::EmbeddingOptions{.num_embeddings = V, .embedding_dim = D}, gen));
    attention =
        register_module("attention", std::make_shared<nn::MultiHeadAttention>(
                                         nn::MultiHeadAttentionOptions{.embed_dim = D, .num_heads = H}, gen));
    readout = register_module(
        "readout", std::make_shared<nn::Linear>(nn::LinearOptions{.in_features = D, .out_features = V}, gen));
  }

  // -> logits (B, T, V), weights (B, H, T, S)
  nn::Attention forward(const LookupBatch& batch) {
    Variable memory = key_embed->forward(batch.keys) + value_embed->forward(batch.values);  // (B, S, D)
    Variable queries = key_embed->forward(batch.queries);                                   // (B, T, D)
    nn::Attention a = attention->forward(queries, memory, memory, {.key_padding = batch.padding});
    return {readout->forward(a.output), a.weights};
  }

  std::shared_ptr<nn::Embedding> key_embed, value_embed;
  std::shared_ptr<nn::MultiHeadAttention> attention;
  std::shared_ptr<nn::Linear> readout;
};

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 10, .topic = "multi_head", .title = "multi-head attention"},
      [](const course::Lesson& lesson) {
        Generator gen(lesson.seed() + 10);

        // ================================================================== 1
        lesson.section(1, "heads are views");
        // A (B, T, D) tensor of projected queries holds H heads side by side: head
        // h owns columns [h*Dh, (h+1)*Dh). Splitting them costs nothing:
        //
        //   (B, T, D) -> view (B, T, H, Dh) -> transpose (B, H, T, Dh)
        //
        // The view only reinterprets the last dim (strides (T*D, D, 1) become
        // (T*D, D, Dh, 1)) and the transpose only swaps two strides, so the heads
        // are a batch dim for the matmuls of attention, on the same memory. Merging
        // back, (B, H, T, Dh) -> transpose (B, T, H, Dh) -> reshape (B, T, D), is
        // free too when the memory is still laid out (B, T, H, Dh), as right after a
        // split; heads computed by a matmul are laid out (B, H, T, Dh), and then the
        // reshape must copy, since a token's row is spread over H places.
        {
          Tensor x = reshape(arange(18), {1, 3, 6});  // (B, T, D) = (1, 3, 6), H = 2 heads of Dh = 3
          Variable heads = detail::split_heads(x, 2);
          std::cout << "x (1, 3, 6), strides " << x.strides() << ":\n" << x << "\n";
          std::cout << "split into 2 heads: shape " << heads.shape() << ", strides "
                    << heads.value().strides()
                    << ", same storage as x: " << (heads.value().storage() == x.storage() ? "yes" : "no")
                    << "\n"
                    << heads.value() << "\n";
          Variable merged = detail::merge_heads(heads);
          std::cout << "merged back: " << merged.shape()
                    << ", equal to x: " << (equal(merged.value(), x) ? "yes" : "no")
                    << ", a copy: " << (merged.value().storage() != x.storage() ? "yes" : "no") << "\n";
          Tensor computed = contiguous(heads.value());  // laid out (B, H, T, Dh), as a matmul's result
          std::cout << "merging heads laid out (B, H, T, Dh): a copy: "
                    << (detail::merge_heads(computed).value().storage() != computed.storage() ? "yes" : "no")
                    << "\n";
          Tensor y = randn({2, 5, 12}, gen);
          course::check_exercise(
              lesson, 1, "split_heads and merge_heads",
              [&] {
                Variable split = lesson10::split_heads(y, 3);
                return equal(split.value(), detail::split_heads(y, 3).value()) &&
                       split.value().storage() == y.storage() &&
                       equal(lesson10::merge_heads(split).value(), y);
              },
              "(2, 5, 12) into 3 heads: a view equal to heed's, and merge(split(x)) == x");
        }

        // ================================================================== 2
        lesson.section(2, "multi-head attention: H single heads and a projection");
        // With weights Wq, Wk, Wv, Wo: (D, D) and biases (D,):
        //
        //   q = query Wqᵀ + bq: (B, T, D) -> split (B, H, T, Dh); k, v from key, value: (B, H, S, Dh)
        //   heads = softmax(q kᵀ / sqrt(Dh)) v: (B, H, T, Dh)     (one batched matmul for all heads)
        //   output = merge(heads) Woᵀ + bo: (B, T, D)
        //
        // Head h only ever sees rows [h*Dh, (h+1)*Dh) of Wq, Wk and Wv, so this is
        // exactly H separate single-head attentions of width Dh, their outputs
        // concatenated, then mixed by Wo. Splitting D into heads costs no
        // parameters: 4 D^2 + 4 D whatever H. Each head's scores use its own sqrt(Dh).
        {
          nn::MultiHeadAttention mha({.embed_dim = 12, .num_heads = 3}, gen);
          std::cout << mha;
          Tensor query = randn({2, 5, 12}, gen), memory = randn({2, 7, 12}, gen);
          nn::Attention a = mha.forward(query, memory, memory);
          std::cout << "query (2, 5, 12), key = value (2, 7, 12) -> output " << a.output.shape()
                    << ", weights " << a.weights.shape() << " (B, H, T, S)\n";
          course::compare_exercise(
              lesson, 2, "3 single heads + out_proj",
              [&] { return lesson10::multi_head_by_hand(mha, query, memory, memory).output.value(); },
              a.output.value(), 1e-4);
        }

        // ================================================================== 3
        lesson.section(3, "heads learn different relations");
        // At every position t of a sequence of 8 tokens of 0..19, say two things:
        // the first token x_0, and the previous token x_{t-1}. With causal
        // attention and learned positions (lesson 11), one head can attend to
        // position 0 and another to position t - 1, each bringing one answer. A
        // single head has one softmax row: it must split it between the two
        // positions and hand the readouts a blend a v(x_0) + (1 - a) v(x_{t-1}),
        // from which they have to pull the two answers apart. Both models have
        // the same width D = 32 and the same parameter count; look at the
        // accuracies, and at where each head puts its weight.
        {
          const int64_t V = 20, T = 8, D = 32;  // 2H: Dh = 16
          TwoRelationsBatch test = two_relations_batch(1000, T, V, gen);
          std::vector<TwoRelationsResult> results;
          std::vector<std::unique_ptr<TwoRelationsModel>> models;
          for (int64_t H : {1, 2}) {
            std::printf("%lld head%s:\n", (long long)H, H == 1 ? "" : "s");
            models.push_back(std::make_unique<TwoRelationsModel>(V, T, D, H, gen));
            results.push_back(train_two_relations(lesson, *models.back(), test, V, T, gen));
          }
          // Where each head looks, averaged over the test set at positions t >= 2
          // (where the first and the previous token differ).
          std::printf("\n%-10s %14s %17s %17s %16s\n", "model", "first correct", "previous correct",
                      "weight on first", "on previous");
          NoGradGuard no_grad;
          Tensor two_heads_weights;
          double most_on_first = 0, most_on_previous = 0;  // over the two heads of the 2H model
          std::vector<std::string> roles;                  // what each head of the 2H model looks at
          for (size_t m = 0; m < models.size(); ++m) {
            Tensor w = models[m]->forward(test.ids).weights;  // (B, H, T, T)
            const int64_t H = w.size(1);
            for (int64_t h = 0; h < H; ++h) {
              double on_first = 0, on_previous = 0;
              for (int64_t t = 2; t < T; ++t) {
                Tensor row = select(select(w, 1, h), 1, t);  // (B, T)
                on_first += mean(select(row, 1, 0)).item() / double(T - 2);
                on_previous += mean(select(row, 1, t - 1)).item() / double(T - 2);
              }
              if (H == 2) {
                most_on_first = std::max(most_on_first, on_first);
                roles.push_back(on_first > on_previous ? "the first token" : "the previous token");
                most_on_previous = std::max(most_on_previous, on_previous);
              }
              const std::string name = std::to_string(H) + "H head " + std::to_string(h);
              if (h == 0)
                std::printf("%-10s %13.1f%% %16.1f%% %17.2f %16.2f\n", name.c_str(), 100 * results[m].first,
                            100 * results[m].previous, on_first, on_previous);
              else
                std::printf("%-10s %14s %17s %17.2f %16.2f\n", name.c_str(), "", "", on_first, on_previous);
            }
            if (H == 2) two_heads_weights = w;
          }
          std::printf(
              "The two heads split the work, one on the first token and one on the previous; the single\n"
              "head spreads its row over both and answers %.1f%% and %.1f%% right.\n",
              100 * results[0].first, 100 * results[0].previous);
          HEED_CHECK(results[1].first > 0.95 && results[1].previous > 0.95 && most_on_first > 0.9 &&
                         most_on_previous > 0.9,
                     "lesson 10: two heads should specialise and answer both questions, got accuracies ",
                     results[1].first, " and ", results[1].previous, ", weights ", most_on_first, " and ",
                     most_on_previous);

          Tensor ids = select(test.ids, 0, 0);
          std::vector<std::string> labels;
          for (float id : ids.to_vector()) labels.push_back(std::to_string(int(id)));
          for (int64_t h = 0; h < 2; ++h) {
            Tensor w = select(select(two_heads_weights, 0, 0), 0, h);  // (T, T)
            const std::string title = "2 heads, head " + std::to_string(h) + ": " + roles[h];
            std::printf("\n");
            course::print_heatmap(std::cout, w,
                                  {.title = title + " (rows: queries, columns: keys)",
                                   .row_labels = labels,
                                   .col_labels = labels});
            course::write_heatmap_svg(
                lesson.figure("two_relations_head" + std::to_string(h),
                              "head " + std::to_string(h) +
                                  ": each head takes one relation (the first token, or the previous one)"),
                w, {.title = title, .row_labels = labels, .col_labels = labels, .low = 0, .high = 1});
          }
        }

        // ================================================================== 4
        lesson.section(4, "cross-attention: queries from one sequence, keys and values from another");
        // Self-attention is forward(x, x, x). Cross-attention takes the queries
        // from one sequence (T of them, a decoder's) and the keys and values from
        // another (S of them, an encoder's memory): weights (B, H, T, S) with T != S,
        // and the memory's padding hidden by a (B, S) key_padding mask.
        // Here the memory is a dictionary of 3..6 (key, value) pairs, each pair one
        // slot (key embedding + value embedding), and each of 4 queries is one of
        // its keys: the answer is that key's value. No positions are needed.
        {
          const int64_t S = 6, T = 4, K = 16, V = 10, D = 32, H = 2;
          LookupModel model(K, V, D, H, gen);
          LookupBatch test = lookup_batch(1000, S, T, K, V, gen);
          const int64_t B = 64, epochs = lesson.pick(4, 12), steps = 100;
          nn::Adam opt(model.named_parameters(), {.lr = 5e-3});
          nn::CrossEntropyLoss criterion;
          course::Progress progress({.label = "training", .epochs = epochs, .steps_per_epoch = steps});
          for (int64_t epoch = 0; epoch < epochs; ++epoch) {
            for (int64_t step = 0; step < steps; ++step) {
              LookupBatch batch = lookup_batch(B, S, T, K, V, gen);
              Variable loss = criterion(model.forward(batch).output, batch.answers);
              opt.zero_grad();
              loss.backward();
              opt.step();
              progress.step(loss.item(), B * T);
            }
            NoGradGuard no_grad;
            char note[48];
            std::snprintf(note, sizeof note, "test accuracy %.1f%%",
                          100 * accuracy_of(model.forward(test).output.value(), test.answers));
            progress.end_epoch(note);
          }
          progress.finish();
          NoGradGuard no_grad;
          nn::Attention a = model.forward(test);
          const double accuracy = accuracy_of(a.output.value(), test.answers);
          std::printf("dictionary lookup by cross-attention: test accuracy %.1f%%\n", 100 * accuracy);
          HEED_CHECK(accuracy > 0.95, "lesson 10: cross-attention should learn the lookup, got ", accuracy);

          // The first test example with padding: rows are the queries, columns the memory's pairs.
          int64_t b = 0;
          while (b + 1 < test.padding.size(0) && test.padding.at({b, S - 1}) == 0) ++b;
          std::vector<std::string> rows, cols;
          char label[32];
          for (int64_t t = 0; t < T; ++t) {
            std::snprintf(label, sizeof label, "q%d", int(test.queries.at({b, t})));
            rows.push_back(label);
          }
          for (int64_t s = 0; s < S; ++s) {
            std::snprintf(label, sizeof label, "%d:%d", int(test.keys.at({b, s})),
                          int(test.values.at({b, s})));
            cols.push_back(test.padding.at({b, s}) != 0 ? "pad" : label);
          }
          Tensor w = mean(select(a.weights.value(), 0, b), {0});  // (T, S), averaged over the heads
          course::print_heatmap(std::cout, w,
                                {.title = "cross-attention, the heads' mean (columns: key:value pairs)",
                                 .row_labels = rows,
                                 .col_labels = cols});
          course::write_heatmap_svg(
              lesson.figure("cross_attention",
                            "cross-attention: each query finds its key in the memory; padding gets nothing"),
              w,
              {.title = "Cross-attention: queries find their key",
               .row_labels = rows,
               .col_labels = cols,
               .x_label = "memory (key:value)",
               .y_label = "query",
               .low = 0,
               .high = 1});
        }

        // ================================================================== 5
        lesson.section(5, "decoding step by step: the key/value cache");
        // A decoder makes one token at a time, and with a causal mask the keys and
        // values of the tokens already made never change. Keep them: each new
        // token projects only itself, appends its key and value to the cache
        // (B, H, S, Dh) -> (B, H, S + 1, Dh), and attends from its one query to all
        // S + 1 keys. Step t costs O(t) scores instead of the O(t^2) of rerunning the
        // whole prefix, and gives the same numbers as the full causal forward.
        {
          const int64_t T = 6;
          nn::MultiHeadAttention mha({.embed_dim = 16, .num_heads = 4}, gen);
          Tensor x = randn({2, T, 16}, gen);
          Tensor full = mha.forward(x, {.causal = true}).output.value();
          nn::KVCache cache;
          std::vector<Tensor> steps;
          for (int64_t t = 0; t < T; ++t) {
            steps.push_back(mha.forward(narrow(x, 1, t, 1), {.causal = true}, &cache).output.value());
            if (t < 2 || t == T - 1) std::cout << "step " << t << ": cache.k " << cache.k.shape() << "\n";
          }
          std::printf("max |step by step - all at once| = %.1e\n", amax(abs(cat(steps, 1) - full)).item());
          long long with_cache = 0, without = 0;
          for (long long t = 1; t <= 512; ++t) with_cache += t, without += t * (t + 1) / 2;
          std::printf(
              "scores computed to decode 512 tokens: %lld with the cache, %lld rerunning the prefix\n",
              with_cache, without);
          course::compare_exercise(
              lesson, 3, "KV-cache decoding, one token per step",
              [&] {
                nn::KVCache yours;
                std::vector<Variable> outs;
                for (int64_t t = 0; t < T; ++t)
                  outs.push_back(lesson10::kv_cache_step(mha, narrow(x, 1, t, 1), yours));
                return cat(outs, 1).value();
              },
              full, 1e-4);
        }
      });
}
