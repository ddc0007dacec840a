// main() of every test binary that creates a local sandbox executor: the executor
// starts its spawner as `<this binary> __sandbox-spawner`, which must not run tests.
#include <gtest/gtest.h>

#include "sandbox/spawner.hpp"

int main(int argc, char** argv) {
  if (auto code = integr8scode::RunSpawnerIfRequested(argc, argv)) return *code;
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
