"""The effect stage (SerumRNN): move a patch's sound toward a target one effect at a time.

Built on the layers below it: the effect parameters (:mod:`asp.synths.effect_specs`), the racks that render them
(:mod:`asp.render.effects`, :mod:`asp.render.serum_rack`, :mod:`asp.render.vital_rack`), the effect datasets
(:mod:`asp.data.effects`), the networks (:mod:`asp.models.effects`, :mod:`asp.models.effect_training`). Here:

* :mod:`asp.effects.loop`: the step loop (choose an effect, predict its settings, render, measure, stop).
* :mod:`asp.effects.systems`: the systems compared (SerumRNN and its variants, Oracle, Random, Exact) over trained
  models; :mod:`asp.effects.rollouts`: the audio the parameter models produce, for training the selectors on it.
* :mod:`asp.effects.training`: ``asp effects train``, every model of a folder, resumable.
* :mod:`asp.effects.steps`: ``asp effects steps`` and the effect steps of ``asp infer``.

The evaluation is :mod:`asp.eval.effects`.
"""
