// heed's whole public API in one include, the one a program starts with:
// nn sits on top, so its umbrella also brings the floors below it. From nn:
// Module, the layers, the recurrent layers, attention (nn/attention/), the
// Transformer, greedy and beam search, BLEU, losses, initializers, optimizers,
// schedules and checkpoints; from autograd (autograd/autograd.h): Variable,
// backward, the differentiable ops, NoGradGuard, gradcheck, AnomalyGuard, DOT
// graphs; from tensor: Tensor, its ops, the seeded Generator and the thread count.
// (nn/io/json.h is safetensors' private helper and is not part of this surface.)
#pragma once

#include "autograd/autograd.h"
#include "nn/activation.h"
#include "nn/attention/bahdanau.h"
#include "nn/attention/focus.h"
#include "nn/attention/fused.h"
#include "nn/attention/linear_attention.h"
#include "nn/attention/luong.h"
#include "nn/attention/multi_head.h"
#include "nn/attention/positions.h"
#include "nn/attention/rotary.h"
#include "nn/attention/scaled_dot_product.h"
#include "nn/attention/sparse.h"
#include "nn/bleu.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/generate.h"
#include "nn/init.h"
#include "nn/io/safetensors.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/loss.h"
#include "nn/module.h"
#include "nn/optim.h"
#include "nn/rnn.h"
#include "nn/schedule.h"
#include "nn/sequential.h"
#include "nn/transformer.h"
#include "nn/unary_module.h"
#include "tensor/ops.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#include "tensor/threads.h"
