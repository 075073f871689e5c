x = f"{a:{b!r:>{width}}} {f"{c}"}"
class A(B[int], metaclass=M):
	def f(self, /, a, *, b=1): return g()
