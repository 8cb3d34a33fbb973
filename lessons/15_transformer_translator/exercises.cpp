// Your answers to lesson 15's exercises. Replace each not_implemented(...) with
// your code, then run `make exercises` to see which pass.
#include "lessons/15_transformer_translator/exercises.h"

#include "autograd/ops.h"
#include "lessons/common/exercise.h"

namespace heed::lesson15 {

BatchMasks batch_masks(const std::vector<int64_t>& source_lengths, const std::vector<int64_t>& target_lengths,
                       int64_t S, int64_t T) {
  (void)source_lengths, (void)target_lengths, (void)S, (void)T;
  course::not_implemented(15, 1,
                          "every mask hides padded keys; the decoder's self-attention also hides the future "
                          "(key u > query t); see section 2 of lesson.cpp");
}

std::vector<std::vector<int64_t>> greedy_translate(nn::Seq2SeqTransformer& model, const Tensor& source,
                                                   const Tensor& source_padding, int64_t start, int64_t eos,
                                                   int64_t max_new_tokens,
                                                   std::vector<nn::TransformerDecoderLayerCache>& caches) {
  (void)model, (void)source, (void)source_padding, (void)start, (void)eos, (void)max_new_tokens, (void)caches;
  course::not_implemented(
      15, 2,
      "encode once, then feed one (B, 1) column of symbols per model.decode(..., &caches) "
      "call; see section 5 of lesson.cpp");
}

void reorder_caches(std::vector<nn::TransformerDecoderLayerCache>& caches, Tensor& source_padding,
                    const std::vector<int64_t>& rows) {
  (void)caches, (void)source_padding, (void)rows;
  course::not_implemented(15, 3,
                          "index_select along dim 0 picks rows in any order, repeats allowed; four tensors a "
                          "layer; see section 5 of lesson.cpp");
}

}  // namespace heed::lesson15
