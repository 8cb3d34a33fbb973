// Lesson 01: tensors.
//
// A tensor is not an array of arrays. It is one flat buffer of floats (the
// storage) seen through three numbers per dimension and one overall:
//
//   shape    (3, 4)   how many indices each dim has
//   strides  (4, 1)   how far in storage one step along each dim moves
//   offset   0        where element (0, 0) sits
//
//   element (i, j)  lives at  storage[offset + i * stride0 + j * stride1]
//
// Everything in this lesson follows from that one line. A transpose swaps
// two strides, a slice moves the offset and scales a stride, a broadcast sets a
// stride to 0: each is a new view of the same storage, made in O(1), and a
// write through any view is seen by all of them. contiguous() is the one
// operation here that copies, into the plain row-major order kernels like.
//
// Run it: build/lessons/lesson_01 (the same in --quick: nothing here trains).
#include "lessons/common/lesson.h"

#include <cstdio>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "lessons/01_tensors/exercises.h"
#include "lessons/common/exercise.h"
#include "nn/nn.h"

using namespace heed;

namespace {

std::string str(const Shape& s) { return to_string(s); }

// One row of the views table: what a view is, in the four numbers that make it.
void print_view(const std::string& name, const Tensor& t, const Tensor& base) {
  std::printf("  %-26s shape %-10s strides %-10s offset %2lld  %-14s %s\n", name.c_str(),
              str(t.shape()).c_str(), str(t.strides()).c_str(), (long long)t.offset(),
              t.is_contiguous() ? "contiguous" : "not contiguous",
              t.storage() == base.storage() ? "shares storage" : "own storage");
}

// The storage as the flat buffer it is, whatever view is looking at it.
void print_storage(const std::string& name, const Tensor& t) {
  std::printf("  %s's storage (%lld floats): [", name.c_str(), (long long)t.storage()->count());
  for (int64_t i = 0; i < t.storage()->count(); ++i)
    std::printf("%s%g", i ? ", " : "", double(t.storage()->data()[i]));
  std::printf("]\n");
}

// A tensor printed under its name, indented as a block.
void show(const std::string& name, const Tensor& t) {
  std::istringstream lines(to_string(t));
  std::printf("  %s =\n", name.c_str());
  for (std::string line; std::getline(lines, line);) std::printf("    %s\n", line.c_str());
}

// What heed says about broadcasting `a` with `b`: the shape, or its error.
std::string heeds_broadcast(const Shape& a, const Shape& b) {
  try {
    return str(broadcast_shapes(a, b, "broadcast"));
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
}

}  // namespace

int main(int argc, char** argv) {
  return course::run_lesson(
      argc, argv, {.number = 1, .topic = "tensors", .title = "tensors"}, [](const course::Lesson& lesson) {
        // ------------------------------------------------------------------
        lesson.section(1, "a tensor is a view of a flat storage");
        // arange(12) is 12 floats; reshape gives them a (3, 4) shape. No copy:
        // the same 12 floats, read as 3 rows of 4.
        Tensor x = reshape(arange(12), {3, 4});
        show("x", x);
        std::printf("  shape %s, strides %s, offset %lld\n", str(x.shape()).c_str(), str(x.strides()).c_str(),
                    (long long)x.offset());
        print_storage("x", x);
        std::printf("  x[2, 1] = storage[0 + 2*4 + 1*1] = storage[9] = %g\n", double(x.at({2, 1})));

        // ------------------------------------------------------------------
        lesson.section(2, "strides of a contiguous tensor");
        // Row-major ("C order"): the last index moves fastest, so the last dim
        // has stride 1, and one step along dim d skips a whole block of the
        // dims after it:
        //   stride[last] = 1,   stride[d] = stride[d + 1] * shape[d + 1]
        // (2, 3, 4): stride 4 skips a row of 4, stride 12 a (3, 4) matrix.
        Tensor y = reshape(arange(24), {2, 3, 4});
        std::printf("  a (2, 3, 4) tensor has strides %s\n", str(y.strides()).c_str());
        std::printf("  y[1, 2, 3] = storage[1*12 + 2*4 + 3*1] = storage[23] = %g\n", double(y.at({1, 2, 3})));
        course::check_exercise(
            lesson, 1, "contiguous strides",
            [&] {
              for (const Shape& s : {Shape{2, 3, 4}, Shape{5}, Shape{}, Shape{3, 0, 2}, Shape{7, 1, 9}})
                if (lesson01::contiguous_strides(s) != zeros(s).strides()) return false;
              return true;
            },
            "(2, 3, 4), (5,), (), (3, 0, 2), (7, 1, 9)");

        // ------------------------------------------------------------------
        lesson.section(3, "views: the same floats, other strides");
        // Each view below is a new (shape, strides, offset) over x's storage:
        //   transpose(x, 0, 1)     swaps the two sizes and the two strides
        //   permute(y, {2, 0, 1})  reorders all three
        //   slice(x, 1, 0, 4, 2)   columns 0, 2: a stride doubled by the step
        //   narrow(x, 0, 1, 2)     rows 1, 2: the offset moves by one row (4)
        //   select(x, 0, 2)        row 2, that dim gone: offset 8, shape (4,)
        //   expand(row, {3, 4})    a (1, 4) row repeated 3 times: stride 0
        //   reshape(x, {2, 6})     contiguous data views under any shape of 12
        Tensor row = narrow(x, 0, 0, 1);  // (1, 4)
        print_view("x", x, x);
        print_view("transpose(x, 0, 1)", transpose(x, 0, 1), x);
        print_view("permute(y, {2, 0, 1})", permute(y, {2, 0, 1}), y);
        print_view("slice(x, 1, 0, 4, 2)", slice(x, 1, 0, 4, 2), x);
        print_view("narrow(x, 0, 1, 2)", narrow(x, 0, 1, 2), x);
        print_view("select(x, 0, 2)", select(x, 0, 2), x);
        print_view("expand(x[0:1], {3, 4})", expand(row, {3, 4}), x);
        print_view("reshape(x, {2, 6})", reshape(x, {2, 6}), x);
        std::printf("\n");

        // Views share storage, so a write through one is a write to all. Here
        // element (0, 1) of xᵀ is element (1, 0) of x, and column 3 of x is a
        // select along dim 1 (stride 4, offset 3).
        Tensor xt = transpose(x, 0, 1);
        xt.at({0, 1}) = 100;
        fill_(select(x, 1, 3), -1);
        std::printf("  after xt[0, 1] = 100 and fill_(select(x, 1, 3), -1):\n");
        show("x", x);
        show("xt", xt);
        print_storage("x", x);

        // ------------------------------------------------------------------
        lesson.section(4, "reading any view through its strides");
        // A view has no elements of its own; element (i0, i1, ...) is read at
        //   storage[offset + i0 * stride0 + i1 * stride1 + ...]
        // Walk every index in row-major order (an odometer: the last digit
        // turns fastest and carries into the one before) and you have the
        // view's elements in order: that is what printing a view, or copying
        // it, does. Here xt (4, 3), strides (1, 4), read element by element.
        x = reshape(arange(12), {3, 4});
        xt = transpose(x, 0, 1);
        std::printf("  xt = transpose(x): shape %s, strides %s\n", str(xt.shape()).c_str(),
                    str(xt.strides()).c_str());
        for (int64_t i = 0; i < xt.size(0); ++i) {
          std::printf("   ");
          for (int64_t j = 0; j < xt.size(1); ++j) {
            const int64_t at = xt.offset() + i * xt.stride(0) + j * xt.stride(1);
            std::printf("  xt[%lld, %lld] = storage[%2lld] = %2g", (long long)i, (long long)j, (long long)at,
                        double(xt.storage()->data()[at]));
          }
          std::printf("\n");
        }
        // Your walk, on xt first, then (once that matches) on a stepped slice
        // of a permuted view and on an expanded one, whose stride 0 reads one
        // row three times.
        Tensor every_other = slice(transpose(y, 0, 2), 0, 1, 4, 2);  // (2, 3, 2), strides (2, 4, 12)
        Tensor repeated = expand(narrow(x, 0, 0, 1), {3, 4});        // (3, 4), strides (0, 1)
        if (course::compare_exercise(
                lesson, 2, "to_contiguous of transpose(x)", [&] { return lesson01::to_contiguous(xt); },
                contiguous(xt), 0)) {
          course::compare_exercise(
              lesson, 2, "to_contiguous of a stepped slice of transpose(y, 0, 2)",
              [&] { return lesson01::to_contiguous(every_other); }, contiguous(every_other), 0);
          course::compare_exercise(
              lesson, 2, "to_contiguous of expand(x[0:1], {3, 4})",
              [&] { return lesson01::to_contiguous(repeated); }, contiguous(repeated), 0);
        }

        // ------------------------------------------------------------------
        lesson.section(5, "contiguous() copies");
        // A view is contiguous when its strides are the row-major strides of
        // its shape (and so a flat walk of storage meets its elements in
        // order). xt is not: its rows are x's columns, 4 floats apart. Kernels
        // want contiguous rows (stride 1, no gaps) to run SIMD loops over them,
        // so an op that needs them calls contiguous(), which copies only when
        // it must: x is returned as itself, xt into fresh storage.
        std::printf("  x.is_contiguous() = %s, xt.is_contiguous() = %s\n",
                    x.is_contiguous() ? "true" : "false", xt.is_contiguous() ? "true" : "false");
        Tensor xc = contiguous(x), xtc = contiguous(xt);
        std::printf("  contiguous(x)  %s x's storage\n", xc.storage() == x.storage() ? "is" : "is not");
        std::printf("  contiguous(xt) %s x's storage: strides %s\n",
                    xtc.storage() == x.storage() ? "is" : "is not", str(xtc.strides()).c_str());
        xtc.at({0, 0}) = 42;  // a copy: x does not see it
        std::printf("  after contiguous(xt)[0, 0] = 42, x[0, 0] is still %g\n", double(x.at({0, 0})));
        // view() never copies, so flattening xt, whose rows are not adjacent in
        // storage, is refused; reshape() views when it can and copies when not.
        try {
          view(xt, {12});
        } catch (const Error& e) {
          std::printf("  view(xt, {12}) refuses: %s\n", e.what());
        }
        Tensor flat = reshape(xt, {12});
        std::cout << "  reshape(xt, {12}) copies ("
                  << (flat.storage() == x.storage() ? "shared" : "own storage") << "): " << flat << "\n";

        // ------------------------------------------------------------------
        lesson.section(6, "broadcasting");
        // a + b for shapes that differ, NumPy's rule:
        //   1. align the shapes from the right; pad the shorter on the left with 1s
        //   2. each pair of sizes must be equal, or one of them 1
        //   3. the result takes the larger size of each pair
        //   (3, 1) + (4,):  (3, 1) with (1, 4)  ->  (3, 4)
        // A size-1 (or missing) dim is then read with stride 0: expand() is
        // the view that repeats it without copying, so a (3, 1) column plus a
        // (4,) row reads the column with strides (1, 0) and the row with (0, 1).
        Tensor column = reshape(arange(3), {3, 1}) * 10.0f, line = arange(4);
        std::cout << "  column " << column.shape() << " + row " << line.shape() << " = " << (column + line)
                  << "\n";
        std::printf("  expand(column, {3, 4}) has strides %s, expand(row, {3, 4}) %s\n",
                    str(expand(column, {3, 4}).strides()).c_str(),
                    str(expand(line, {3, 4}).strides()).c_str());
        const std::vector<std::pair<Shape, Shape>> pairs = {
            {{3, 1}, {4}}, {{2, 1, 3}, {4, 1}}, {{5}, {}}, {{8, 1, 6, 1}, {7, 1, 5}}, {{2, 3}, {4}}};
        for (const auto& [a, b] : pairs)
          std::printf("  %-12s with %-10s -> %s\n", str(a).c_str(), str(b).c_str(),
                      heeds_broadcast(a, b).c_str());
        course::check_exercise(
            lesson, 3, "broadcast shape",
            [&] {
              for (const auto& [a, b] : pairs) {
                std::string mine;
                try {
                  mine = str(lesson01::broadcast_shape(a, b));
                } catch (const NotImplemented&) {
                  throw;
                } catch (const Error& e) {
                  // Any wording will do, as long as both shapes are named.
                  const std::string what = e.what();
                  if (what.find(str(a)) == std::string::npos || what.find(str(b)) == std::string::npos)
                    return false;
                  mine = heeds_broadcast(a, b);
                }
                if (mine != heeds_broadcast(a, b)) return false;
              }
              return true;
            },
            "the five pairs above, the error naming both shapes");
        Tensor m = transpose(reshape(arange(6), {2, 3}), 0, 1);  // (3, 2), not contiguous
        Tensor r = reshape(arange(2), {1, 1, 2}) * 100.0f;       // (1, 1, 2)
        if (course::compare_exercise(
                lesson, 4, "add_broadcast of column (3, 1) and row (4,)",
                [&] { return lesson01::add_broadcast(column, line); }, column + line, 0))
          course::compare_exercise(
              lesson, 4, "add_broadcast of a transposed (3, 2) and (1, 1, 2)",
              [&] { return lesson01::add_broadcast(m, r); }, m + r, 0);
      });
}
