"""Render-in-the-loop matching: find the preset whose render is closest to a target, with the real synth.

Given a synth's schema, its renderer, a target clip and starting candidates (a model's prediction and draws from
it), :func:`refine` searches every synth at once with a mixed-integer method (continuous parameters as values,
categorical and binary ones as classes), splits the render budget across synths by successive halving, searches on
cheap renders (a lower sample rate) and re-scores the final candidates on full-quality renders. Torch-free: a model
only supplies the candidates and class probabilities.

* :mod:`asp.search.space`: a schema as a mixed search space.
* :mod:`asp.search.objective`: the distances the search minimises (``asp.metrics``), prepared once per target.
* :mod:`asp.search.methods`: the optimisers behind one ask/tell interface (the sparse evolution strategy, plain
  CMA-ES, CatCMA with margin, Levenberg-Marquardt on the continuous parameters, random).
* :mod:`asp.search.refine`: the multi-synth driver.
"""

from asp.search.methods import METHODS
from asp.search.objective import OBJECTIVES, Objective
from asp.search.refine import Candidate, SearchOptions, SynthResult, refine
from asp.search.space import SearchSpace

__all__ = ["METHODS", "OBJECTIVES", "Candidate", "Objective", "SearchOptions", "SearchSpace", "SynthResult", "refine"]
