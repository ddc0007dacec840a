# Every dependency comes from Debian's packages (see scripts/setup).
#
# Static where Debian ships a static library: every shared library costs each start of
# the binary its loading and relocation, and `integr8scode run` starts once per run
# (docs/benchmarks.md). Left shared: libstdc++ and glibc, fmt and prometheus-cpp (no
# static build in Debian); libpq is loaded only when PostgreSQL is used (dlopen).
option(INTEGR8SCODE_STATIC_DEPS "Link third-party libraries statically where possible" ON)
if(INTEGR8SCODE_STATIC_DEPS)
  set(Boost_USE_STATIC_LIBS ON)
  set(OPENSSL_USE_STATIC_LIBS TRUE)
  set(ZLIB_USE_STATIC_LIBS ON)
  # pkg-config and find_library lookups (libseccomp, libsodium, SQLite) prefer .a.
  set(CMAKE_FIND_LIBRARY_SUFFIXES .a .so)
endif()
find_package(Threads REQUIRED)
find_package(tl-expected REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(tomlplusplus REQUIRED)
# toml++ in header-only mode (its two users are the catalog and the config loader): one
# shared library less to load at every start.
add_library(integr8scode_toml INTERFACE)
target_include_directories(integr8scode_toml INTERFACE
  $<TARGET_PROPERTY:tomlplusplus::tomlplusplus,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_definitions(integr8scode_toml INTERFACE TOML_HEADER_ONLY=1)
find_package(Boost 1.81 EXACT REQUIRED COMPONENTS json url)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)
# HTTP server (api), metrics.
find_package(OpenSSL REQUIRED)
find_package(ZLIB REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)
