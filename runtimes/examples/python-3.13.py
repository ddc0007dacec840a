# Python 3.13: copy.replace() makes a changed copy of a dataclass (or named tuple),
# and the default of a TypeVar (PEP 696) fills in a type parameter left out.
import copy
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: int
    y: int


class Box[T = int]:  # a type parameter with a default, new in 3.13
    def __init__(self, item: T) -> None:
        self.item = item


origin = Point(0, 0)
moved = copy.replace(origin, x=3)
print("moved:", moved)
print("default of T:", Box.__type_params__[0].__default__.__name__)
print("version:", sys.version_info[:2])
