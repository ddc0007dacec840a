#include <stdio.h>

/* _Generic (C11) picks an expression by the type of its argument. */
#define type_name(x) _Generic((x), int: "int", double: "double", char *: "string", default: "other")

struct point {
  int x, y;
};

int main(void) {
  struct point p = {.y = 2, .x = 1}; /* designated initializers */
  int squares[5] = {[4] = 16, [2] = 4};

  printf("point: (%d, %d)\n", p.x, p.y);
  printf("42 is an %s, 4.2 is a %s, \"hi\" is a %s\n", type_name(42), type_name(4.2),
         type_name((char *)"hi"));
  for (int i = 0; i < 5; i++) printf("squares[%d] = %d\n", i, squares[i]);
  return 0;
}
