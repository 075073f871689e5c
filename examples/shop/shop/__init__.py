"""Shop: a small online shop used as testmap's example project."""
