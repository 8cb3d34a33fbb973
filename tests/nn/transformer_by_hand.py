# The expected numbers of test_transformer.cpp's "post-norm encoder layer with
# fixed weights" case, computed in plain Python (no numpy, no torch) from the
# same formulas the test fills the weights with. Run: python3 transformer_by_hand.py
import math

T, D, H, F = 2, 4, 2, 3  # tokens, width, heads, feed-forward width
Dh = D // H


def w(rows, cols, salt):  # the test's fixed(rows, cols, salt)
    return [[0.1 * (((i * 3 + j * 5 + salt) % 7) - 3) for j in range(cols)] for i in range(rows)]


def b(n, salt):
    return w(1, n, salt)[0]


x = [[0.5 * (((t * D + d) * 3) % 5 - 2) for d in range(D)] for t in range(T)]
Wq, Wk, Wv, Wo = w(D, D, 1), w(D, D, 2), w(D, D, 3), w(D, D, 4)
bq, bk, bv, bo = b(D, 5), b(D, 6), b(D, 7), b(D, 8)
W1, b1, W2, b2 = w(F, D, 9), b(F, 10), w(D, F, 11), b(D, 12)
g1, be1, g2, be2 = [1 + v for v in b(D, 13)], b(D, 14), [1 + v for v in b(D, 15)], b(D, 16)


def affine(rows, W, bias):  # rows (n, in) -> rows W^T + bias (n, out)
    return [[sum(r[k] * W[o][k] for k in range(len(r))) + bias[o] for o in range(len(W))] for r in rows]


def layer_norm(rows, g, be, eps=1e-5):
    out = []
    for r in rows:
        m = sum(r) / len(r)
        var = sum((v - m) ** 2 for v in r) / len(r)
        out.append([(v - m) / math.sqrt(var + eps) * g[i] + be[i] for i, v in enumerate(r)])
    return out


def layer(x, padded):  # padded: the keys hidden from every query
    q, k, v = affine(x, Wq, bq), affine(x, Wk, bk), affine(x, Wv, bv)
    o = [[0.0] * D for _ in range(T)]
    for h in range(H):
        cols = range(h * Dh, (h + 1) * Dh)
        for i in range(T):
            s = [sum(q[i][c] * k[j][c] for c in cols) / math.sqrt(Dh) for j in range(T)]
            e = [0.0 if j in padded else math.exp(s[j] - max(s)) for j in range(T)]
            for c in cols:
                o[i][c] = sum(e[j] / sum(e) * v[j][c] for j in range(T))
    a = affine(o, Wo, bo)
    y = layer_norm([[x[t][d] + a[t][d] for d in range(D)] for t in range(T)], g1, be1)
    f = affine([[max(0.0, u) for u in r] for r in affine(y, W1, b1)], W2, b2)
    return layer_norm([[y[t][d] + f[t][d] for d in range(D)] for t in range(T)], g2, be2)


for padded in ([], [1]):
    print("padded", padded, ",\n".join("{" + ", ".join("%.7ff" % v for v in r) + "}" for r in layer(x, padded)))
