#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace integr8scode {

// The framing rules of RFC 9112 that Boost.Beast's parser leaves to the server, checked
// on a request's header before its body is read. A request that breaks one is answered
// 400 and its connection closed: a front proxy may have framed it differently, so what
// follows on the connection cannot be trusted to start a request (request smuggling).
//
// `fields` are the header fields as received (names lower-case, in order, repeats kept);
// `version` is 10 or 11. Returns the sentence for the 400's detail, or nothing when the
// framing is sound. Pure; thread-safe.
std::optional<std::string> FramingProblem(
    unsigned version, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace integr8scode
