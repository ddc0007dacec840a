#pragma once

#include <string>
#include <string_view>

#include "api/http_message.hpp"
#include "common/error.hpp"

namespace integr8scode {

// How an Error is answered over HTTP: the one table of docs/api.md ("Conventions").
struct ProblemKind {
  int status = 500;
  std::string_view code;   // stable, machine-readable: "invalid_field"
  std::string_view title;  // short human summary: "Invalid request"
  int retry_after_s = 0;   // > 0: the answer carries Retry-After with this many seconds
};

// Looks up `error.reason` first (a refinement such as "unknown_runtime"), then falls
// back to the default of `error.code`. Unknown reasons fall back too.
ProblemKind ProblemFor(const Error& error);

// Every problem code the table can produce, for tests and the OpenAPI document.
std::vector<std::string_view> ProblemCodes();

// Client-supplied text quoted in a problem's detail (an unknown field name, a method,
// a path): at most `max_bytes` of it, cut on a character boundary and marked with "…",
// so that an answer never grows with what the client sent.
std::string QuoteForDetail(std::string_view text, std::size_t max_bytes = 64);

// An application/problem+json response (RFC 9457) with type, title, status, detail,
// code, request_id and, when the error names one, field. Internal errors get a generic
// detail: their message stays in the log. detail and field are capped (1 KiB, 256 bytes)
// whatever built them. The headers a problem implies are set here too: Retry-After
// from the table, WWW-Authenticate on a 401 (RFC 6750 §3).
HttpResponse ProblemResponse(const Error& error, std::string_view request_id);

}  // namespace integr8scode
