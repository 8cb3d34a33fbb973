// Elementwise ops and their derivatives.
//
// A unary op y = f(x) has the local derivative f'(x), so d loss/dx = grad * f'(x),
// elementwise, with every tensor the shape of x. Where f' is cheaper to write with
// y than with x (exp, tanh, sigmoid), the closure saves y. Each op saves only
// the tensors its backward reads (as Saved, so an in-place write to one is
// caught), and a binary op only those the gradients that are needed read.
//
// A binary op broadcasts: a: (3, 1) and b: (4,) give out: (3, 4). Each element of
// a was used 4 times, so its gradient is the sum of those 4 uses: the output's
// gradient summed back to each input's own shape (unbroadcast = sum_to).
#include <cmath>

#include "autograd/ops.h"
#include "autograd/ops_detail.h"
#include "tensor/map.h"

namespace heed {

using detail::unbroadcast;

// ------------------------------------------------------------- unary
Variable neg(const Variable& x) {
  return record("neg", neg(x.value()), {x}, [](const Tensor& grad) { return Grads{-grad}; });
}

Variable exp(const Variable& x) {
  Tensor y = exp(x.value());
  return record("exp", y, {x}, [y = Saved(y, "its output")](const Tensor& grad) {
    return Grads{grad * y};  // d e^x/dx = e^x
  });
}

Variable log(const Variable& x) {
  return record("log", log(x.value()), {x}, [x = Saved(x.value(), "its input")](const Tensor& grad) {
    return Grads{grad / x};  // d log x/dx = 1/x
  });
}

Variable sqrt(const Variable& x) {
  Tensor y = sqrt(x.value());
  return record("sqrt", y, {x}, [y = Saved(y, "its output")](const Tensor& grad) {
    return Grads{grad / (2.0f * y)};  // d sqrt(x)/dx = 1 / (2 sqrt(x))
  });
}

Variable abs(const Variable& x) {
  return record("abs", abs(x.value()), {x}, [x = Saved(x.value(), "its input")](const Tensor& grad) {
    Tensor zero = scalar(0.0f);
    return Grads{grad * (gt(x, zero) - lt(x, zero))};  // sign(x), taken as 0 at the kink
  });
}

Variable tanh(const Variable& x) {
  Tensor y = tanh(x.value());
  return record("tanh", y, {x}, [y = Saved(y, "its output")](const Tensor& grad) {
    // d tanh(x)/dx = 1 - tanh(x)^2, fused into one pass over grad and y
    return Grads{map2(grad, y, "tanh backward", [](float g, float t) { return g * (1.0f - t * t); })};
  });
}

Variable sigmoid(const Variable& x) {
  Tensor y = sigmoid(x.value());
  return record("sigmoid", y, {x}, [y = Saved(y, "its output")](const Tensor& grad) {
    // d s(x)/dx = s(x) (1 - s(x)), fused into one pass
    return Grads{map2(grad, y, "sigmoid backward", [](float g, float s) { return g * s * (1.0f - s); })};
  });
}

// The gradient is grad where y > 0, else 0, written over y when this backward
// is its last reader (Saved::take).
Variable relu(const Variable& x) { return relu(Variable(x)); }

Variable relu(Variable&& x) {
  Tensor y = detail::donated(x);
  if (y.defined())
    relu_(y);
  else
    y = relu(x.value());
  return record("relu", y, {x}, [y = Saved(y, "its output")](const Tensor& grad) {
    Tensor dx = y.take();
    if (!dx.defined()) dx = clone(y);
    relu_backward_(dx, grad);
    return Grads{dx};
  });
}

// gelu(x) = 0.5 x (1 + t),  t = tanh(u),  u = c (x + 0.044715 x^3),  c = sqrt(2/pi)
// gelu'(x) = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2)
Variable gelu(const Variable& x) {
  return record("gelu", gelu(x.value()), {x}, [saved = Saved(x.value(), "its input")](const Tensor& grad) {
    constexpr float c = 0.7978845608028654f, k = 0.044715f;
    const Tensor& x = saved;
    Tensor x2 = x * x;
    Tensor t = tanh(c * x * (1.0f + k * x2));
    Tensor local = 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * c * (1.0f + 3.0f * k * x2);
    return Grads{grad * local};
  });
}

// elu'(x) = 1 for x > 0, alpha e^x = y + alpha otherwise; y > 0 exactly when x > 0,
// so the output alone gives the derivative.
Variable elu(const Variable& x, float alpha) {
  Tensor y = elu(x.value(), alpha);
  return record("elu", y, {x}, [y = Saved(y, "its output"), alpha](const Tensor& grad) {
    return Grads{
        map2(grad, y, "elu backward", [alpha](float g, float e) { return e > 0.0f ? g : g * (e + alpha); })};
  });
}

Variable pow(const Variable& x, float exponent) {
  return record("pow", pow(x.value(), exponent), {x},
                [x = Saved(x.value(), "its input"), exponent](const Tensor& grad) {
                  return Grads{grad * (exponent * pow(x, exponent - 1.0f))};  // d x^p/dx = p x^(p-1)
                });
}

// ------------------------------------------------------------- binary, broadcasting
Variable add(const Variable& a, const Variable& b) {
  return record("add", add(a.value(), b.value()), {a, b},
                [sa = a.shape(), sb = b.shape()](const Tensor& grad) {
                  return Grads{unbroadcast(grad, sa), unbroadcast(grad, sb)};
                });
}

Variable sub(const Variable& a, const Variable& b) {
  return record("sub", sub(a.value(), b.value()), {a, b},
                [sa = a.shape(), sb = b.shape()](const Tensor& grad) {
                  return Grads{unbroadcast(grad, sa), unbroadcast(-grad, sb)};
                });
}

// A constant operand (a mask, a scale) needs no gradient, so none is computed,
// and the other operand, which only that gradient reads, is not saved.
Variable mul(const Variable& a, const Variable& b) {
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  return record("mul", mul(a.value(), b.value()), {a, b},
                [sa = a.shape(), sb = b.shape(), a = Saved(need_b ? a.value() : Tensor(), "its input 0"),
                 b = Saved(need_a ? b.value() : Tensor(), "its input 1")](const Tensor& grad) {
                  const Tensor &av = a, &bv = b;
                  return Grads{bv.defined() ? unbroadcast(grad * bv, sa) : Tensor(),   // d(ab)/da = b
                               av.defined() ? unbroadcast(grad * av, sb) : Tensor()};  // d(ab)/db = a
                });
}

Variable div(const Variable& a, const Variable& b) {
  const bool need_a = a.requires_grad(), need_b = b.requires_grad();
  Tensor y = div(a.value(), b.value());
  return record("div", y, {a, b},
                [need_a, sa = a.shape(), y = Saved(need_b ? y : Tensor(), "its output"),
                 b = Saved(b.value(), "its input 1")](const Tensor& grad) {
                  const Tensor &yv = y, &bv = b;
                  Tensor grad_over_b = grad / bv;
                  return Grads{need_a ? unbroadcast(grad_over_b, sa) : Tensor(),  // d(a/b)/da = 1/b
                               yv.defined() ? unbroadcast(-grad_over_b * yv, bv.shape())
                                            : Tensor()};  // d(a/b)/db = -a/b^2
                });
}

// The larger input gets the gradient; at a tie, a does (as the forward picks a).
Variable maximum(const Variable& a, const Variable& b) {
  return record(
      "maximum", maximum(a.value(), b.value()), {a, b},
      [a = Saved(a.value(), "its input 0"), b = Saved(b.value(), "its input 1")](const Tensor& grad) {
        const Tensor &av = a, &bv = b;
        Tensor a_wins = ge(av, bv);
        return Grads{unbroadcast(grad * a_wins, av.shape()), unbroadcast(grad * (1.0f - a_wins), bv.shape())};
      });
}

Variable minimum(const Variable& a, const Variable& b) {
  return record(
      "minimum", minimum(a.value(), b.value()), {a, b},
      [a = Saved(a.value(), "its input 0"), b = Saved(b.value(), "its input 1")](const Tensor& grad) {
        const Tensor &av = a, &bv = b;
        Tensor a_wins = le(av, bv);
        return Grads{unbroadcast(grad * a_wins, av.shape()), unbroadcast(grad * (1.0f - a_wins), bv.shape())};
      });
}

// ------------------------------------------------------------- with a float
Variable operator+(const Variable& a, float b) {
  return record("add", a.value() + b, {a}, [](const Tensor& grad) { return Grads{grad}; });
}
Variable operator-(const Variable& a, float b) {
  return record("sub", a.value() - b, {a}, [](const Tensor& grad) { return Grads{grad}; });
}
Variable operator*(const Variable& a, float b) {
  return record("mul", a.value() * b, {a}, [b](const Tensor& grad) { return Grads{grad * b}; });
}
Variable operator/(const Variable& a, float b) {
  return record("div", a.value() / b, {a}, [b](const Tensor& grad) { return Grads{grad / b}; });
}
Variable operator+(float a, const Variable& b) { return b + a; }
Variable operator-(float a, const Variable& b) {
  return record("sub", a - b.value(), {b}, [](const Tensor& grad) { return Grads{-grad}; });
}
Variable operator*(float a, const Variable& b) { return b * a; }
Variable operator/(float a, const Variable& b) {
  Tensor y = a / b.value();
  return record("div", y, {b},
                [y = Saved(y, "its output"), b = Saved(b.value(), "its input")](const Tensor& grad) {
                  return Grads{-grad * y / b};  // d(a/b)/db = -a/b^2 = -y/b
                });
}

Variable operator-(const Variable& x) { return neg(x); }
Variable operator+(const Variable& a, const Variable& b) { return add(a, b); }
Variable operator-(const Variable& a, const Variable& b) { return sub(a, b); }
Variable operator*(const Variable& a, const Variable& b) { return mul(a, b); }
Variable operator/(const Variable& a, const Variable& b) { return div(a, b); }

}  // namespace heed
