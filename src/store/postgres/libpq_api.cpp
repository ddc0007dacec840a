#include "store/postgres/libpq_api.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include "common/try.hpp"

namespace integr8scode {
namespace {

Result<LibpqApi> Load() {
  // RTLD_LOCAL: libpq's own dependencies stay out of the global symbol scope.
  void* library = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    return Fail(
        ErrorCode::kUnavailable,
        fmt::format("PostgreSQL needs libpq.so.5, which cannot be loaded ({}); install it with "
                    "apt-get install libpq5",
                    ::dlerror()));
  }
  LibpqApi api;
  const auto resolve = [library](auto& pointer, const char* name) -> Status {
    void* symbol = ::dlsym(library, name);
    if (symbol == nullptr) {
      return Fail(ErrorCode::kUnavailable, fmt::format("libpq.so.5 lacks {}; it is too old", name));
    }
    pointer = reinterpret_cast<std::remove_reference_t<decltype(pointer)>>(symbol);
    return {};
  };
#define INTEGR8SCODE_RESOLVE(name) I8C_TRY(resolve(api.name, #name));
  INTEGR8SCODE_RESOLVE(PQconnectdbParams)
  INTEGR8SCODE_RESOLVE(PQstatus)
  INTEGR8SCODE_RESOLVE(PQerrorMessage)
  INTEGR8SCODE_RESOLVE(PQfinish)
  INTEGR8SCODE_RESOLVE(PQsetNoticeProcessor)
  INTEGR8SCODE_RESOLVE(PQexec)
  INTEGR8SCODE_RESOLVE(PQprepare)
  INTEGR8SCODE_RESOLVE(PQdescribePrepared)
  INTEGR8SCODE_RESOLVE(PQexecPrepared)
  INTEGR8SCODE_RESOLVE(PQresultStatus)
  INTEGR8SCODE_RESOLVE(PQresultErrorField)
  INTEGR8SCODE_RESOLVE(PQclear)
  INTEGR8SCODE_RESOLVE(PQnparams)
  INTEGR8SCODE_RESOLVE(PQparamtype)
  INTEGR8SCODE_RESOLVE(PQntuples)
  INTEGR8SCODE_RESOLVE(PQnfields)
  INTEGR8SCODE_RESOLVE(PQftype)
  INTEGR8SCODE_RESOLVE(PQgetisnull)
  INTEGR8SCODE_RESOLVE(PQgetvalue)
  INTEGR8SCODE_RESOLVE(PQgetlength)
  INTEGR8SCODE_RESOLVE(PQcmdTuples)
  INTEGR8SCODE_RESOLVE(PQsocket)
  INTEGR8SCODE_RESOLVE(PQconsumeInput)
  INTEGR8SCODE_RESOLVE(PQnotifies)
  INTEGR8SCODE_RESOLVE(PQfreemem)
#undef INTEGR8SCODE_RESOLVE
  // The library stays loaded for the life of the process (never dlclose'd).
  return api;
}

}  // namespace

Result<const LibpqApi*> LoadLibpq() {
  static const Result<LibpqApi> loaded = Load();
  I8C_TRY(loaded);
  return &*loaded;
}

}  // namespace integr8scode
