"""python3 workload of python_dicts.trace (make_traces.sh): dict and str churn."""
import random
random.seed(7)
total = 0
for r in range(3):
    d = {f"key{i}": "v" * (i % 40) + str(i) for i in range(12000)}
    words = [k.upper() for k in d if len(d[k]) % 3 == 0]
    total += len(d) + len(words) + sum(len(v) for v in d.values())
    del d, words
print(total)
