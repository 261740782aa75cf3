"""Judges: pure functions from evidence to a verdict on one check.

Each exercise's ``exercise.toml`` names its checks' judges by the keys of ``JUDGES``; adding an
exercise needs no new judge as long as these cover it. Every judge has the signature
``judge(evidence, params, spec) -> Verdict`` (see ``grader.judges.base``) and imports no
TensorFlow. ``docs/mistakes.md`` lists the learner mistakes they recognise.

What a judge says is never written in it: its sentences (messages and hints) are functions of
``grader.messages.judges``, translated with gettext (``grader/locale/<lang>/LC_MESSAGES/judges.po``).

``JUDGE_PARAMS`` names, for each judge, the model of the ``[checks.params]`` it accepts (declared
beside the judge, with its defaults); ``grader.spec`` validates every exercise.toml against it.
A new judge goes into both tables.
"""

from __future__ import annotations

from grader.judges.accuracy import AccuracyParams, judge_test_accuracy
from grader.judges.base import Judge, JudgeParams, NoParams, Verdict, VerdictStatus
from grader.judges.compile import (
    AccuracyMetricParams,
    LossParams,
    OptimizerParams,
    judge_accuracy_metric,
    judge_loss,
    judge_optimizer,
)
from grader.judges.integrity import IntegrityParams, counted_only_if_untouched, judge_integrity
from grader.judges.model import (
    CompiledParams,
    HiddenLayersParams,
    InputShapeParams,
    OutputLayerParams,
    judge_compiled,
    judge_hidden_layers,
    judge_input_shape,
    judge_model_built,
    judge_output_layer,
)
from grader.judges.structure import LoadDataParams, judge_functions_present, judge_load_data
from grader.judges.training import judge_training

# In the order a learner's work flows: what the file defines, the data, the model, how it is
# compiled, training, and the result.
JUDGES: dict[str, Judge] = {
    "functions_present": judge_functions_present,
    "load_data": judge_load_data,
    "model_built": judge_model_built,
    "compiled": judge_compiled,
    "input_shape": judge_input_shape,
    "hidden_layers": judge_hidden_layers,
    "output_layer": judge_output_layer,
    "loss": judge_loss,
    "optimizer": judge_optimizer,
    "accuracy_metric": judge_accuracy_metric,
    "training": judge_training,
    "test_accuracy": counted_only_if_untouched(judge_test_accuracy),
    "integrity": judge_integrity,
}

# What each judge accepts in [checks.params]; same keys as JUDGES.
JUDGE_PARAMS: dict[str, type[JudgeParams]] = {
    "functions_present": NoParams,
    "load_data": LoadDataParams,
    "model_built": NoParams,
    "compiled": CompiledParams,
    "input_shape": InputShapeParams,
    "hidden_layers": HiddenLayersParams,
    "output_layer": OutputLayerParams,
    "loss": LossParams,
    "optimizer": OptimizerParams,
    "accuracy_metric": AccuracyMetricParams,
    "training": NoParams,
    "test_accuracy": AccuracyParams,
    "integrity": IntegrityParams,
}

__all__ = ["JUDGES", "JUDGE_PARAMS", "Judge", "JudgeParams", "Verdict", "VerdictStatus"]
