import a.b as c
from ...x import (y as z,
  w)
def f(a=lambda q=1: q, *args, **kw) -> "T": \
    return [h(i) for i in a]
