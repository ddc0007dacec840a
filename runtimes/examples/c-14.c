/* C23 with GCC 14: nullptr, constexpr objects, typeof_unqual, digit separators and bool as a keyword. */
#include <stdio.h>

constexpr int kLimit = 1'000;

int main(void) {
    int *pointer = nullptr;
    typeof_unqual(kLimit) count = 0; /* int, without the const */
    for (int i = 0; i < kLimit; i += 100) count++;
    bool empty = pointer == nullptr;
    printf("count: %d, empty: %s, C standard: %ld\n", count, empty ? "true" : "false", __STDC_VERSION__);
    return 0;
}
