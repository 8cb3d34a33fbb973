// to_dot: the graph behind a Variable as Graphviz DOT text, for a picture of
// what backward will walk:  dot -Tsvg graph.dot -o graph.svg
//
// Each op is a box "matmul #2\n(4, 3)" (its number in recording order and its
// output's shape); leaves are ellipses with their name, or "leaf", and shape;
// constants are grey. Edges run from inputs to the ops that use them.
#pragma once

#include <string>

#include "autograd/variable.h"

namespace heed {

std::string to_dot(const Variable& v);

}  // namespace heed
