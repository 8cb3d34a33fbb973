// Everything nn offers, in one include: Module, the layers, the recurrent
// layers, losses, initializers, optimizers, schedules and checkpoints.
// (nn/io/json.h is safetensors' private helper and is not part of this surface.)
#pragma once

#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
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
#include "nn/unary_module.h"
