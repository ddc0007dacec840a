// main() of a test binary that creates a LocalExecutor: the sandbox re-executes this
// binary as its spawner process (sandbox/spawner.hpp), which main() must hand over to.
#include <gtest/gtest.h>

#include "sandbox/spawner.hpp"

int main(int argc, char** argv) {
  if (auto code = integr8scode::RunSpawnerIfRequested(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
