"""What is made of runs: sensitivity indices (``sensitivity.py``), the back-test against the
record (``backtesting.py``), the calibration (``calibrate.py``) and the studies that reports
render (``studies.py``).

Returns data; writes no Markdown and draws no figures (that is ``report``).
"""
