// integr8scode-serve: the service (`integr8scode serve` execs it; commands.hpp). The same
// command line as integr8scode, with the server behind `serve`.
#include "app/commands.hpp"
#include "sandbox/spawner.hpp"

int main(int argc, char** argv) {
  using namespace integr8scode;
  // The sandbox spawner is this binary too, exec'd by the server (not a user command).
  if (auto code = RunSpawnerIfRequested(argc, argv)) return *code;
  return CommandLineMain(argc, argv, Serve);
}
