// heed::Error and HEED_CHECK: every misuse of the library ends here, with a
// message that names the op and the shapes involved, e.g.
//   matmul: cannot multiply (2, 3) by (4, 5): inner sizes 3 and 4 differ
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace heed {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown by an exercise stub the learner has not written yet; the message says
// which lesson and exercise, and gives a hint.
class NotImplemented : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}
}  // namespace detail

}  // namespace heed

// HEED_CHECK(condition, message parts...): throws heed::Error built from the parts.
#define HEED_CHECK(cond, ...)                                              \
  do {                                                                     \
    if (!(cond)) throw ::heed::Error(::heed::detail::concat(__VA_ARGS__)); \
  } while (0)
