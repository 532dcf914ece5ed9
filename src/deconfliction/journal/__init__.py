"""Journal: the append-only, hash-chained record of everything."""
