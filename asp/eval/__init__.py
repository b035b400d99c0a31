"""Evaluation: metrics over a model's predictions, baselines and the reports.

* :mod:`asp.eval.evaluate`, :mod:`asp.eval.pipeline`, :mod:`asp.eval.report`: ``asp eval`` (LSD, parameter MSE,
  accuracy, ANOVA, HPSS timbre groups, latent-size sweeps, the cross-synth matrix).
* :mod:`asp.eval.params`: ``asp analyze``, per parameter; :mod:`asp.eval.reproduce`: ``asp reproduce``, the paper's
  comparisons; :mod:`asp.eval.listen`: ``report.html``, a batch inference to listen to;
  :mod:`asp.eval.presets`: the mean-preset and random-preset baselines.
* :mod:`asp.eval.effects`: ``asp effects eval``, the effect stage's six metrics.

Plots go through :mod:`asp.plotting`.
"""
