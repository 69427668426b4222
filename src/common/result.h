// Result<T>: the value of an operation that can fail in an expected way (bad input, refused
// token, backend error). Exceptions are kept for programming errors and start-up failures.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace portcullis {

// An expected failure: a message meant for an operator or a caller. Never holds a secret.
struct Error {
  std::string message;
  // A stable, machine-readable word for callers that answer differently by kind of failure
  // (the REST API's error codes: "not_found", "forbidden", "conflict", ...); empty otherwise.
  std::string code = {};
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

// Result of an operation with no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error make_error(std::string message) {
  return Error{std::move(message)};
}

inline Error make_error(std::string code, std::string message) {
  return Error{std::move(message), std::move(code)};
}

}  // namespace portcullis
