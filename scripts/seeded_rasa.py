#!/usr/bin/env python
"""`rasa …` with numpy's and Python's global random generators seeded first.

Rasa's cross-validation shuffles its folds with `StratifiedKFold(shuffle=True)` and no
random_state, so every `rasa test nlu --cross-validation` run splits differently and two configs
are never compared on the same folds. Seeding the global generators fixes the split; DIET's own
`random_seed` in config.yml fixes its weights. Usage: `python scripts/seeded_rasa.py test nlu …`.
"""
import random
import sys

import numpy as np

SEED = 0

if __name__ == "__main__":
    random.seed(SEED)
    np.random.seed(SEED)
    from rasa.__main__ import main

    sys.argv = ["rasa", *sys.argv[1:]]
    main()
