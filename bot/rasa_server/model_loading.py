"""Load DIET's and TED's TensorFlow models for prediction without first training them on one example.

Rasa 3.6 (`RasaModel.load`) builds a model's variables by compiling it with an Adam optimizer and
running `fit` on one example, then overwrites every variable with the trained weights. That fit
traces the whole training step (gradients, optimizer slots) only to throw its result away: in a
Rasa worker it was DIET 591 MB and 25.6 s of CPU, TED 112 MB and 13.7 s, most of the model's
memory and of the time to start (`scripts/profile_turn.py memory`, docs/benchmarks.md).

Here, for prediction (not fine-tuning), the trained weights are read first: TensorFlow's
checkpoints restore a variable the moment it is created ("deferred restoration"). Rasa's own
first prediction on its example then creates the variables the prediction needs, each with its
trained value, and prepares the label embeddings from them. Every variable that exists afterwards
must have come from the checkpoint (`assert_existing_objects_matched`), otherwise Rasa's own load
runs instead. `tests/bot/rasa_server/test_model_loading.py` compares weights and predictions with
Rasa's load.

Installed when `bot.rasa_server.components` or `bot.rasa_server.policies` is imported, i.e. by any
process that loads our model (the server, `rasa test`, `rasa shell`, the scripts), before it loads.
"""
from __future__ import annotations

import logging
from typing import Any, Optional, Text

from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)

_rasa_load = RasaModel.load.__func__  # type: ignore[attr-defined]


def load_for_prediction(
    cls: type,
    model_file_name: Text,
    model_data_example: RasaModelData,
    predict_data_example: Optional[RasaModelData] = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """`RasaModel.load` with the same arguments; Rasa's own for fine-tuning or without an example."""
    if finetune_mode or predict_data_example is None:
        return _rasa_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs)
    model = cls(*args, **kwargs)
    status = model.load_weights(model_file_name)  # restores each variable as it is created
    model.run_inference(predict_data_example)  # creates the prediction's variables, prepares labels
    try:
        status.assert_existing_objects_matched()
    except AssertionError as error:
        logger.warning("%s: a variable is not in the checkpoint (%s); loading as Rasa does", cls.__name__, error)
        return _rasa_load(cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs)
    # The optimizer's state (and training-only layers) stay in the checkpoint: say it is meant, or
    # TensorFlow logs one warning per unread value.
    status.expect_partial()
    return model


def install() -> None:
    """Idempotent."""
    if RasaModel.load.__func__ is not load_for_prediction:  # type: ignore[attr-defined]
        RasaModel.load = classmethod(load_for_prediction)  # type: ignore[assignment]
