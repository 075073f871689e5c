import os, a.b as c
from ..x import (y as z, w,)
from . import *
@pytest.mark.parametrize("a", [1, 2])
@pytest.mark.usefixtures("db", 'redis')
async def test_x(self, a: int = 3, *args, k=1, **kw) -> None:
    x = f"{foo(1)} and {f'{bar()}'}"
    return self.client.get(url)(baz())
class A(B.C, Generic[T], metaclass=M):
    pytestmark = [pytest.mark.django_db, pytest.mark.redis]
    def m(self): pass
    class Inner: x = 1
pytestmark = pytest.mark.slow
if x:
    pytest_plugins = "a.b", "c"
