"""What the model is given: parameters and scenarios (``params.py``, checked against the
schema in ``schema.py``), the recorded history (``history.py``), the calibration file
(``calibration_file.py``), and where those files are (``resources.py``).

Imports nothing from the layers above (``core``, ``runs``, ``analysis``, ``report``).
"""
