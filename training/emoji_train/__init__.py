"""Emoji Mirror's emotion-model training package.

`train.py` (one readable file beside this package) drives it; the modules here are the parts it and the
tests share: the preprocessing contract, the data readers, the models, the metrics, ONNX export, int8
quantisation and the plots.
"""
