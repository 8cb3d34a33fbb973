// Anomaly mode: find the op that first made a NaN or an Inf.
//
// While an AnomalyGuard lives on this thread (or on every thread, when the
// environment sets HEED_DETECT_ANOMALY=1 before it starts), every recorded op checks its output,
// and backward checks every gradient it computes. The first non-finite value
// throws heed::Error naming
//   - the op and its number: "log #3" is the 3rd op recorded on this thread
//     since the last backward(), the same number to_dot() prints, so a forward
//     pass can be matched against its graph;
//   - its inputs, by name when set_name() gave them one ("'scores' (2, 5)"),
//     else by the op that made them ("the (2, 5) output of matmul #2");
//   - whether its inputs were already non-finite (then the fault is upstream).
//
//   AnomalyGuard anomaly;
//   Variable y = log(x);   // heed::Error: anomaly: log #1 produced NaN (first at
//                          // element 0 of (3,)) from 'x' (3,)
//
// Checking costs a pass over every output and gradient, so it is off by default.
#pragma once

namespace heed {

class AnomalyGuard {
 public:
  explicit AnomalyGuard(bool enabled = true);
  ~AnomalyGuard();
  AnomalyGuard(const AnomalyGuard&) = delete;
  AnomalyGuard& operator=(const AnomalyGuard&) = delete;

 private:
  bool previous_;
};
bool anomaly_enabled();

}  // namespace heed
