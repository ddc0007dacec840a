#include <concepts>
#include <iostream>
#include <ranges>
#include <string>
#include <vector>

// A C++20 concept: anything that can be added to itself.
template <typename T>
concept Addable = requires(T a, T b) {
  a + b;
};

template <Addable T>
T twice(T value) {
  return value + value;
}

int main() {
  std::vector<int> numbers{1, 2, 3, 4, 5, 6, 7, 8};
  auto even_squares = numbers | std::views::filter([](int n) { return n % 2 == 0; }) |
                      std::views::transform([](int n) { return n * n; });
  for (int n : even_squares) std::cout << n << ' ';
  std::cout << '\n' << twice(21) << ' ' << twice(std::string("ab")) << '\n';
}
