// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

// Reading the core's own JSON files (run statuses, the job pool's ledger)
// field by field: a field of the wrong type or out of range makes the whole
// file malformed, and the reader says which field. Private to the core.

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>

namespace headroom::json_fields {

// A malformed field is a malformed file: the reader says which.
struct BadField {
    std::string what;
};

// A whole number that fits T: nlohmann would truncate 1.5 and wrap -1 or 2^40 silently.
template <typename T> T integer(const nlohmann::json& v, const char* key)
{
    if (!v.is_number_integer())
        throw BadField{key};
    if (v.is_number_unsigned()) {
        const auto n = v.get<std::uint64_t>();
        if (n > std::uint64_t(std::numeric_limits<T>::max()))
            throw BadField{key};
        return T(n);
    }
    const auto n = v.get<std::int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
        if (n < 0 || std::uint64_t(n) > std::uint64_t(std::numeric_limits<T>::max()))
            throw BadField{key};
    } else {
        if (n < std::int64_t(std::numeric_limits<T>::min()) ||
            n > std::int64_t(std::numeric_limits<T>::max()))
            throw BadField{key};
    }
    return T(n);
}

// A finite number, whole or not (Prometheus's timestamps are seconds with a
// fraction); NaN and infinities, which JSON cannot carry, never pass.
inline double number(const nlohmann::json& v, const char* key)
{
    if (!v.is_number())
        throw BadField{key};
    const double n = v.get<double>();
    if (!std::isfinite(n))
        throw BadField{key};
    return n;
}

} // namespace headroom::json_fields
