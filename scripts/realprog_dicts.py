"""A real program for `make bench_realprog`: builds and drops large dicts and
lists (CPython's allocator takes big blocks from malloc), prints one total."""
import random

random.seed(7)
total = 0
for round in range(6):
    d = {i: [str(i)] * (i % 7) for i in range(150000)}
    l = [list(range(i % 50)) for i in range(60000)]
    total += sum(len(v) for v in d.values()) + sum(map(len, l))
    del d, l
print(total)
