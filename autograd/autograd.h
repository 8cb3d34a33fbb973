// Everything autograd offers: Variable and backward, the differentiable ops,
// gradcheck, anomaly mode and DOT graphs.
#pragma once

#include "autograd/anomaly.h"
#include "autograd/dot.h"
#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/variable.h"
