"""The names and numbers an ``exercise.toml`` may give a judge, checked when the spec is loaded.

A ``[checks.params]`` value such as ``accepted = ["sparse_categorical_crosentropy"]`` or
``layer = "Dens"`` is a name the judge compares with what the learner's model records; a typo
there would make every submission fail (the course's own reference included) and tell learners
to use something Keras does not have. So each name is checked against Keras' vocabulary, in
every spelling Keras itself accepts, and turned into the canonical name the judges compare with
(``grader.judges.vocabulary``): ``"SparseCategoricalCrossentropy"``, ``"sparse_categorical_crossentropy"``
and ``"SCCE"``-style aliases all become one name.

The vocabulary is a static list (measured from Keras 3.15): loading a spec imports no TensorFlow.
The types here are ``Annotated`` strings and numbers for the Params models beside each judge.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Annotated

from pydantic import AfterValidator, Field

from grader.judges.base import NumberPair
from grader.judges.vocabulary import (
    ACTIVATION_ALIASES,
    ACTIVATION_LAYERS,
    AUTO_ACCURACY,
    ELEMENTWISE_ACCURACY,
    KNOWN_ACTIVATIONS,
    KNOWN_LOSSES,
    KNOWN_METRICS,
    KNOWN_OPTIMIZERS,
    LOSS_ALIASES,
    snake_case,
)

# Losses Keras has beyond the ones the judges explain (keras.losses, Keras 3.15).
_MORE_LOSSES = ("circle", "ctc", "dice", "tversky")
LOSS_NAMES = tuple(sorted({*KNOWN_LOSSES, *LOSS_ALIASES.values(), *_MORE_LOSSES}))

# Optimizers Keras has beyond the ones the judges know a default learning rate for.
OPTIMIZER_NAMES = tuple(sorted({*KNOWN_OPTIMIZERS, "muon", "schedulefreeadamw"}))

# keras.metrics by their snake_case names (what grader.judges.vocabulary.canonical_metrics gives).
_MORE_METRICS = (
    "binary_crossentropy", "binary_io_u", "categorical_crossentropy", "categorical_hinge",
    "concordance_correlation", "cosine_similarity", "f1_score", "f_beta_score", "false_negatives",
    "false_positives", "hinge", "io_u", "kl_divergence", "log_cosh_error", "mae", "mape", "mean",
    "mean_absolute_percentage_error", "mean_io_u", "mean_squared_logarithmic_error", "mse", "msle",
    "one_hot_io_u", "one_hot_mean_io_u", "pearson_correlation", "poisson", "precision_at_recall",
    "r2_score", "recall_at_precision", "root_mean_squared_error", "sensitivity_at_specificity",
    "sparse_categorical_crossentropy", "specificity_at_sensitivity", "squared_hinge", "sum",
    "true_negatives", "true_positives",
)  # fmt: skip
METRIC_NAMES = tuple(sorted({*KNOWN_METRICS, *_MORE_METRICS, ELEMENTWISE_ACCURACY}))

ACTIVATION_NAMES = tuple(sorted({*KNOWN_ACTIVATIONS, *ACTIVATION_LAYERS.values()}))

# keras.layers class names (Keras 3.15), plus a few of tf.keras 2 that legacy .h5 files record.
KERAS_LAYERS = (
    "Activation", "ActivityRegularization", "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D",
    "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D",
    "AdaptiveMaxPooling3D", "Add", "AdditiveAttention", "AlphaDropout", "Attention", "AugMix",
    "AutoContrast", "Average", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "BatchNormalization", "Bidirectional", "CategoryEncoding", "CenterCrop", "Concatenate",
    "ContrastLimitedAdaptiveHistogramEqualization", "Conv1D", "Conv1DTranspose", "Conv2D",
    "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
    "Cropping1D", "Cropping2D", "Cropping3D", "CutMix", "Dense", "DepthwiseConv1D",
    "DepthwiseConv2D", "Discretization", "Dot", "Dropout", "ELU", "EinsumDense", "Embedding",
    "Equalization", "Flatten", "GRU", "GRUCell", "GaussianDropout", "GaussianNoise",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GroupNormalization",
    "GroupQueryAttention", "HashedCrossing", "Hashing", "Identity", "InputLayer", "IntegerLookup",
    "LSTM", "LSTMCell", "Lambda", "LayerNormalization", "LeakyReLU", "Masking",
    "MaxNumBoundingBoxes", "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum",
    "MelSpectrogram", "Minimum", "MixUp", "MultiHeadAttention", "Multiply", "Normalization",
    "PReLU", "Permute", "RMSNormalization", "RNN", "RandAugment", "RandomBrightness",
    "RandomColorDegeneration", "RandomColorJitter", "RandomContrast", "RandomCrop",
    "RandomElasticTransform", "RandomErasing", "RandomFlip", "RandomGaussianBlur",
    "RandomGrayscale", "RandomHue", "RandomInvert", "RandomPerspective", "RandomPosterization",
    "RandomRotation", "RandomSaturation", "RandomSharpness", "RandomShear", "RandomTranslation",
    "RandomZoom", "ReLU", "RepeatVector", "Rescaling", "Reshape", "Resizing", "ReversibleEmbedding",
    "STFTSpectrogram", "SeparableConv1D", "SeparableConv2D", "SimpleRNN", "SimpleRNNCell",
    "Softmax", "Solarization", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
    "SpectralNormalization", "StackedRNNCells", "StringLookup", "Subtract", "TFSMLayer",
    "TextVectorization", "TimeDistributed", "UnitNormalization", "UpSampling1D", "UpSampling2D",
    "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    # tf.keras 2 only
    "LocallyConnected1D", "LocallyConnected2D", "ThresholdedReLU",
)  # fmt: skip

# Keras' second names for a layer class: a saved model records the first name, so the judges
# compare with that.
LAYER_ALIASES = {
    "AvgPool1D": "AveragePooling1D", "AvgPool2D": "AveragePooling2D", "AvgPool3D": "AveragePooling3D",
    "MaxPool1D": "MaxPooling1D", "MaxPool2D": "MaxPooling2D", "MaxPool3D": "MaxPooling3D",
    "GlobalAvgPool1D": "GlobalAveragePooling1D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalAvgPool3D": "GlobalAveragePooling3D", "GlobalMaxPool1D": "GlobalMaxPooling1D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D", "GlobalMaxPool3D": "GlobalMaxPooling3D",
    "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
    "Convolution1DTranspose": "Conv1DTranspose", "Convolution2DTranspose": "Conv2DTranspose",
    "Convolution3DTranspose": "Conv3DTranspose", "SeparableConvolution1D": "SeparableConv1D",
    "SeparableConvolution2D": "SeparableConv2D",
}  # fmt: skip


def _checked(kind: str, allowed: Iterable[str], canonical: Callable[[str], str]) -> Callable[[str], str]:
    """A validator: ``value`` in its canonical spelling, or a ValueError naming what is allowed."""
    allowed = tuple(allowed)

    def check(value: str) -> str:
        name = canonical(value)
        if name in allowed:
            return name
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6) or difflib.get_close_matches(
            value, allowed, n=1, cutoff=0.6
        )
        did_you_mean = f" (did you mean '{close[0]}'?)" if close else ""
        raise ValueError(f"found {value!r}, which is not {kind} Keras knows{did_you_mean}")

    return check


def canonical_loss_name(value: str) -> str:
    """``"SparseCategoricalCrossentropy"``, ``"BCE"`` -> ``"sparse_categorical_crossentropy"``, ...
    (the spelling ``grader.judges.vocabulary.canonical_loss`` gives a learner's loss)."""
    name = snake_case(value)
    return LOSS_ALIASES.get(name, name)


def canonical_optimizer_name(value: str) -> str:
    """``"Adam"``, ``"RMSprop"`` -> ``"adam"``, ``"rmsprop"`` (as ``canonical_optimizer`` does)."""
    return value.strip().lower()


def canonical_metric_name(value: str) -> str:
    """``"acc"``, ``"Accuracy"`` -> ``"accuracy"``; ``"SparseCategoricalAccuracy"`` ->
    ``"sparse_categorical_accuracy"`` (as ``canonical_metrics`` does)."""
    name = snake_case(value)
    return AUTO_ACCURACY if name in ("acc", "accuracy") else name


def canonical_activation_name(value: str) -> str:
    """``"relu"``, ``"ReLU"``, ``"softmax_v2"`` -> ``"relu"``, ``"relu"``, ``"softmax"``."""
    if value in ACTIVATION_LAYERS:
        return ACTIVATION_LAYERS[value]
    name = snake_case(value)
    return ACTIVATION_ALIASES.get(name, name)


def canonical_layer_name(value: str) -> str:
    """``"MaxPool2D"`` -> ``"MaxPooling2D"``: the class name a saved model records."""
    name = value.strip()
    return LAYER_ALIASES.get(name, name)


# Each name also carries examples for the JSON Schema (editors offer them); any spelling Keras
# accepts is valid, so the schema cannot list them as an enum.
LossName = Annotated[
    str,
    AfterValidator(_checked("a loss", LOSS_NAMES, canonical_loss_name)),
    Field(examples=["sparse_categorical_crossentropy", "categorical_crossentropy"]),
]
OptimizerName = Annotated[
    str,
    AfterValidator(_checked("an optimizer", OPTIMIZER_NAMES, canonical_optimizer_name)),
    Field(examples=["adam", "sgd", "rmsprop"]),
]
MetricName = Annotated[
    str,
    AfterValidator(_checked("a metric", METRIC_NAMES, canonical_metric_name)),
    Field(examples=["accuracy", "sparse_categorical_accuracy"]),
]
ActivationName = Annotated[
    str,
    AfterValidator(_checked("an activation", ACTIVATION_NAMES, canonical_activation_name)),
    Field(examples=["relu", "softmax", "linear"]),
]
LayerName = Annotated[
    str,
    AfterValidator(_checked("a layer class", KERAS_LAYERS, canonical_layer_name)),
    Field(examples=["Dense", "Conv2D", "Dropout"]),
]

# A share of a check's points, or any other number from 0 to 1 (an accuracy, a gain in accuracy).
Fraction = Annotated[float, Field(ge=0, le=1)]


def _ordered(pair: tuple[float, float]) -> tuple[float, float]:
    low, high = pair
    if low > high:
        raise ValueError(f"found [{low:g}, {high:g}]: a range is written [lowest, highest]; write [{high:g}, {low:g}]")
    return pair


def _fractions(pair: tuple[float, float]) -> tuple[float, float]:
    for number in pair:
        if not 0 <= number <= 1:
            raise ValueError(f"found [{pair[0]:g}, {pair[1]:g}]: both numbers must be from 0 to 1")
    return pair


# ``[lowest, highest]``, both from 0 to 1 (a Dropout rate).
FractionRange = Annotated[NumberPair, AfterValidator(_fractions), AfterValidator(_ordered)]
# ``[a, b]``, both from 0 to 1, in no particular order (a band of test accuracy and its share).
FractionPair = Annotated[NumberPair, AfterValidator(_fractions)]
