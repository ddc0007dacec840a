# Python 3.14: template strings (PEP 750) keep the parts of an f-string-like
# literal apart, so a function decides how to render each interpolation.
import sys
from string.templatelib import Interpolation, Template


def shout(template: Template) -> str:
    parts = []
    for part in template:
        if isinstance(part, Interpolation):
            parts.append(str(part.value).upper())
        else:
            parts.append(part)
    return "".join(parts)


name = "world"
print(shout(t"hello {name}, from {sys.implementation.name}"))
print("version:", sys.version_info[:2])
