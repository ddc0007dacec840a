# Python 3.15: unpacking in comprehensions (PEP 798) flattens with * and **.
import sys

rows = [[1, 2], [3], [4, 5, 6]]
print("flat:", [*row for row in rows])
layers = [{"a": 1}, {"b": 2}, {"a": 3}]
print("merged:", {**layer for layer in layers})
print("version:", sys.version_info[:2])
