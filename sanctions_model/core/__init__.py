"""The model itself, pure and batch-shaped: the stocks and flows declared once (``system.py``),
the equations (``model.py``), lever and driver schedules (``schedules.py``), the solver
(``solve.py``, and ``stepper.py`` with the compiled loop of ``jit.py``, kept on disk as
``jit_cache.py`` says) and the outcomes read from a solution (``outcomes.py``).

Knows nothing about parameter files or pandas (``jit_cache.py`` keeps the compiled code on disk);
imports nothing from the layers above it.
"""
