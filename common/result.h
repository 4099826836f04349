// Status and Result<T>: how P2C2R reports expected failures.
//
// Bad input, network trouble and a peer's lie are values, not exceptions: a
// function that can fail for such reasons returns Status or Result<T>, whose
// message is written for the person who has to act on it. Exceptions are kept
// for programming errors and start-up failures.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace p2c2r {

// The kind of failure, so that a server can map it to an HTTP status and a
// caller can decide whether retrying makes sense.
enum class Code {
  kOk = 0,
  kInvalidArgument,     // the request or input is malformed; retrying will not help
  kNotFound,            // the thing named does not exist
  kAlreadyExists,       // e.g. a duplicate report
  kPermissionDenied,    // bad signature, bad token, not your replica
  kFailedPrecondition,  // the system is not in a state to do this now
  kUnavailable,         // transient: network, device busy; retry later
  kDeadlineExceeded,    // a timeout expired
  kResourceExhausted,   // a size or memory limit was hit
  kOutOfRange,          // past a fixed limit of this device (buffer range, workgroup count)
  kInternal,            // a bug or a broken environment (no Vulkan driver, ...)
};

const char* code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid argument: <message>", or "ok".
  std::string to_string() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status with_context(const std::string& context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status permission_denied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status failed_precondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status internal_error(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status resource_exhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status out_of_range(std::string m) { return {Code::kOutOfRange, std::move(m)}; }
inline Status deadline_exceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }
inline Status already_exists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) {
    if (std::get<Status>(v_).ok()) v_ = Status(Code::kInternal, "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace p2c2r

// Returns early from the enclosing function if `expr` (a Status) is not ok.
#define P2C2R_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::p2c2r::Status p2c2r_status_ = (expr);        \
    if (!p2c2r_status_.ok()) return p2c2r_status_; \
  } while (0)

#define P2C2R_CONCAT_INNER(a, b) a##b
#define P2C2R_CONCAT(a, b) P2C2R_CONCAT_INNER(a, b)
// `P2C2R_ASSIGN_OR_RETURN(auto x, f());` binds x to f()'s value or returns its Status.
#define P2C2R_ASSIGN_OR_RETURN(lhs, expr) \
  P2C2R_ASSIGN_OR_RETURN_IMPL(P2C2R_CONCAT(p2c2r_result_, __LINE__), lhs, expr)
#define P2C2R_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return tmp.status();               \
  lhs = std::move(tmp).value()
