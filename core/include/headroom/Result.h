#pragma once

#include <optional>
#include <string>
#include <utility>

namespace headroom {

// A value or a sentence a person can act on. The core never throws across its
// boundary; functions that can fail return one of these instead.
template <typename T> class Result {
  public:
    static Result success(T value) { return Result(std::move(value)); }
    static Result failure(std::string message) { return Result(std::nullopt, std::move(message)); }

    bool ok() const { return value_.has_value(); }
    explicit operator bool() const { return ok(); }

    const T& value() const& { return *value_; }
    T& value() & { return *value_; }
    T&& value() && { return std::move(*value_); }
    const T* operator->() const { return &*value_; }
    T* operator->() { return &*value_; }

    const std::string& error() const { return error_; }

  private:
    explicit Result(T value) : value_(std::move(value)) {}
    Result(std::nullopt_t, std::string message) : error_(std::move(message)) {}

    std::optional<T> value_;
    std::string error_;
};

} // namespace headroom
