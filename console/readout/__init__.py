"""The readout (复盘): one printable page per experiment, expected against actual."""
