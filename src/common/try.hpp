#pragma once

// Propagating a failure in one line. Both return the failed Status/Result's error from the
// enclosing function, which must itself return a Result or Status:
//
//   I8C_TRY(ValidateEmail(email));                 // a Status or Result whose value is unused
//   auto user = I8C_TRY_VALUE(RequireUser(caller));  // the value of a successful Result
//
// Where the error should say what was being done, keep the explicit form with
// `std::move(x).error().WithContext(...)`. I8C_TRY_VALUE uses a GNU statement expression
// (GCC and Clang); do not nest one I8C_TRY* inside another's argument.
#include <utility>

#include "common/error.hpp"

#define I8C_TRY(expr)                                                  \
  do {                                                                 \
    auto&& i8c_try_result_ = (expr);                                   \
    if (!i8c_try_result_) {                                            \
      return ::integr8scode::Fail(std::move(i8c_try_result_).error()); \
    }                                                                  \
  } while (false)

#define I8C_TRY_VALUE(expr)                                           \
  __extension__({                                                     \
    auto&& i8c_try_value_ = (expr);                                   \
    if (!i8c_try_value_) {                                            \
      return ::integr8scode::Fail(std::move(i8c_try_value_).error()); \
    }                                                                 \
    std::move(*i8c_try_value_);                                       \
  })
