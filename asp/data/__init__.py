"""Datasets on disk: what a dataset is, how it is generated, split, checked and read.

* :mod:`asp.data.generate`: ``asp dataset generate``, random presets rendered by the job pool into shards; resumes.
* :mod:`asp.data.layout`: the on-disk format (shards, the card, the plan) and the one plan check every builder uses.
* :mod:`asp.data.store`: reading a finished dataset; :mod:`asp.data.datamodule`: the Lightning data module.
* :mod:`asp.data.importers`: datasets of the original code's format; :mod:`asp.data.targets`: held-back target folders.
* :mod:`asp.data.effects`: the effect stage's datasets (preset families through all effect subsets).

Torch is imported only by the data module.
"""
