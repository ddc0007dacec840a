# Warnings live on one INTERFACE target that every project target links.
add_library(integr8scode_warnings INTERFACE)
target_compile_options(integr8scode_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Woverloaded-virtual -Wimplicit-fallthrough -Wformat=2
  -Wmisleading-indentation -Wduplicated-cond -Wlogical-op)
if(INTEGR8SCODE_WERROR)
  target_compile_options(integr8scode_warnings INTERFACE -Werror)
endif()
