#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "domain/user.hpp"
#include "service/caller.hpp"

namespace integr8scode {

struct ScriptDraft {
  std::string name;
  std::string language;
  std::string version;
  std::string content;
};

// Saved scripts, per user. Thread-safe. Every method needs an authenticated caller
// (kUnauthenticated otherwise); another user's id answers kNotFound.
class ScriptService {
 public:
  virtual ~ScriptService() = default;
  virtual Result<std::vector<Script>> List(const Caller& caller) = 0;
  virtual Result<Script> Create(const Caller& caller, ScriptDraft draft) = 0;
  virtual Result<Script> Get(const Caller& caller, std::string_view id) = 0;
  virtual Result<Script> Update(const Caller& caller, std::string_view id, ScriptDraft draft) = 0;
  virtual Status Delete(const Caller& caller, std::string_view id) = 0;
};

}  // namespace integr8scode
