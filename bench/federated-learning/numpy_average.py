# numpy's side of bench/federated-learning: loads the stacked clients and their sample counts,
# times each weighted-average idiom (load time excluded), writes the fastest idiom's result and
# prints the timings as JSON on its last line.
import json
import sys
import time

import numpy as np

stacked_path, counts_path, out_path, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
stacked = np.load(stacked_path)
counts = np.load(counts_path)  # float32, so every idiom stays in float32 like ours
weights = counts / counts.sum()

idioms = {
    "np.average(stacked, axis=0, weights=counts)": lambda: np.average(stacked, axis=0, weights=counts),
    "(counts[:, None] * stacked).sum(0) / counts.sum()": lambda: (counts[:, None] * stacked).sum(0) / counts.sum(),
    # Not one of the two idioms the bench compares with: a BLAS sgemv, reported for information.
    "(counts / counts.sum()) @ stacked  [BLAS sgemv]": lambda: weights @ stacked,
}

timings = {}
results = {}
for name, run in idioms.items():
    results[name] = run()  # warm-up, and the result to compare
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    timings[name] = samples[len(samples) // 2]

compared = [name for name in idioms if "BLAS" not in name]
fastest = min(compared, key=lambda name: timings[name])
np.save(out_path, results[fastest].astype(np.float32))
print(json.dumps({
    "numpy": np.__version__,
    "fastest": fastest,
    "timings_ms": timings,
    "dtypes": {name: str(result.dtype) for name, result in results.items()},
}))
