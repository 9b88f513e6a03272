"""Golden trajectories: the regression suite of an environment itself.

Record episodes once (any agent), keep what the env answered at every step as one
reviewable JSON file per episode under ``.mesocosm/golden/<domain>/`` beside the
manifest, and later replay the recorded actions against the current env, with no model,
comparing observation, reward, terminated/truncated and info at every step.

``store``    the golden file: its shape, where it lives, reading and writing
``replay``   play recorded actions against an adapter and capture its answers
``compare``  the first differing step, volatile paths ignored, shown as a diff
``record``   the actions of a finished episode (its trace) turned into a golden file
"""
