# -*- coding: latin-1 -*-
s = "é"
if x:
    pytestmark = [a, b]
