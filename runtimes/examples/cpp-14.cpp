// C++23 with G++ 14: std::print, std::expected and deducing this.
#include <expected>
#include <print>
#include <string>

std::expected<int, std::string> parse(const std::string& text) {
  try {
    return std::stoi(text);
  } catch (...) {
    return std::unexpected("not a number: " + text);
  }
}

struct Counter {
  int value = 0;
  auto&& increment(this auto&& self) {
    ++self.value;
    return self;
  }
};

int main() {
  std::println("parsed: {}", parse("42").value());
  std::println("error: {}", parse("forty").error());
  Counter counter;
  counter.increment().increment();
  std::println("counter: {}", counter.value);
}
