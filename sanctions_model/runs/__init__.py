"""Running the model many times: sampling designs (``designs.py``), the one evaluator every
batch goes through (``evaluate.py``), where batches execute (``executors.py``), and the entry
points with their results: one run (``run.py``), an ensemble (``ensemble.py``) and a sweep
(``sweep.py``, stored as ``sweep_result.py`` reads it).

Imports ``inputs`` and ``core``, never ``analysis`` or ``report`` at import time.
"""
