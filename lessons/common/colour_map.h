// The course's one colour map, shared by the SVG heatmaps and the terminal's
// 256-colour cells so a figure and its terminal twin read the same way.
//
// viridis (matplotlib's default): perceptually uniform, sequential (dark
// purple = low, yellow = high), readable in greyscale and by most colour-blind
// readers. Computed, not tabled: a degree-6 polynomial fit per channel
// (Matt Zucconi's fit, widely used in shaders), within ~1/255 of the table.
#pragma once

#include <algorithm>
#include <cmath>

namespace heed::course::detail {

struct Rgb {
  double r, g, b;  // each in [0, 1]
};

// t in [0, 1] (clamped; NaN gives the low end).
inline Rgb viridis(double t) {
  t = std::isnan(t) ? 0.0 : std::clamp(t, 0.0, 1.0);
  static constexpr double c[7][3] = {
      {0.2777273272234177, 0.005407344544966578, 0.3340998053353061},
      {0.1050930431085774, 1.404613529898575, 1.384590162594685},
      {-0.3308618287255563, 0.214847559468213, 0.09509516302823659},
      {-4.634230498983486, -5.799100973351585, -19.33244095627987},
      {6.228269936347081, 14.17993336680509, 56.69055260068105},
      {4.776384997670288, -13.74514537774601, -65.35303263337234},
      {-5.435455855934631, 4.645852612178535, 26.3124352495832},
  };
  double out[3];
  for (int ch = 0; ch < 3; ++ch) {
    double v = c[6][ch];  // Horner
    for (int k = 5; k >= 0; --k) v = v * t + c[k][ch];
    out[ch] = std::clamp(v, 0.0, 1.0);
  }
  return {out[0], out[1], out[2]};
}

}  // namespace heed::course::detail
