"""The networks and how they are trained and loaded.

* :mod:`asp.models.vae`, :mod:`asp.models.components`, :mod:`asp.models.losses`: the multi-task VAE (shared mel
  encoder, spectrogram decoder, parameter decoders per synth or joint) and the single-task baselines.
* :mod:`asp.models.module`, :mod:`asp.models.training`, :mod:`asp.models.sweep`: Lightning training from the Hydra
  configs in ``configs/``, and sweeps.
* :mod:`asp.models.inference`: ``Predictor``, a trained run's one-shot prediction; :mod:`asp.models.checkpoints`:
  loading tensors and plain data only.
* :mod:`asp.models.effects`, :mod:`asp.models.effect_training`: the effect stage's networks (a parameter model per
  effect, the effect selectors) and their training.
"""
