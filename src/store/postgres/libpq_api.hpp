#pragma once

#include <libpq-fe.h>

#include "common/error.hpp"

namespace integr8scode {

// libpq, loaded with dlopen the first time a PostgreSQL store is opened. The binary
// does not link it: libpq pulls in some twenty libraries (Kerberos, LDAP, GnuTLS…) whose
// loading cost every start of `integr8scode run` milliseconds although only a server
// on PostgreSQL needs them. Types come from <libpq-fe.h>; calls go through this table.
struct LibpqApi {
#define INTEGR8SCODE_LIBPQ_FUNCTION(name) decltype(&::name) name = nullptr;
  INTEGR8SCODE_LIBPQ_FUNCTION(PQconnectdbParams)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQstatus)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQerrorMessage)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQfinish)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQsetNoticeProcessor)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQexec)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQprepare)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQdescribePrepared)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQexecPrepared)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQresultStatus)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQresultErrorField)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQclear)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQnparams)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQparamtype)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQntuples)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQnfields)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQftype)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQgetisnull)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQgetvalue)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQgetlength)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQcmdTuples)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQsocket)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQconsumeInput)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQnotifies)
  INTEGR8SCODE_LIBPQ_FUNCTION(PQfreemem)
#undef INTEGR8SCODE_LIBPQ_FUNCTION
};

// The loaded table (loaded once, thread-safe), or kUnavailable saying how to install
// libpq when the library or one of its functions cannot be found.
Result<const LibpqApi*> LoadLibpq();

}  // namespace integr8scode
