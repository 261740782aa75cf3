"""What the checks found and how to fix it: every sentence the judges (``grader.judges``), the
scorer (``grader.scoring``) and the quiz scorer (``grader.quiz``) give a learner.

Each sentence is an English gettext message id, translated by ``say`` when it is asked for, so a
function here returns the sentence in the current language (``grader.messages.set_language``).
Constants marked ``N_`` are English ids, translated where they are used (``_(HINT)``). Facts are
named placeholders: the learner's names, Keras' own text, class and layer names and numbers are
filled in as they are and never translated.

Some sentences are built from clauses (a divergence "the training loss rose from 2.3 to 9.1"
inside "train() ran 5 epochs, but ..."): each clause is a message of its own, and the sentence
that holds it has a ``{placeholder}`` for it, so a translation may move it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from grader.messages import N_, _, current_language, say, say_n
from grader.messages.sandbox import limit_name

# =================================================================================================
# Hints used by several judges
# =================================================================================================

DIVERGENCE_HINT = N_(
    "Lower the learning rate (Adam's default, 0.001, is a good start) and make sure the pixels are scaled to [0, 1]."
)
# The book's own chapter-5 notebook never scales its pixels (and stays below the 0.85 bar on
# Fashion-MNIST), so the hint does not send the learner back to the chapter for this step.
RAW_PIXELS_HINT = N_(
    "The model works best on raw 0-255 pixel values, so it was trained on unscaled images: divide "
    "the images by 255.0 so the pixels lie in [0, 1] (train_images = train_images / 255.0, and the "
    "same for the test images). Large input values make training slow and unsteady; scaled "
    "images usually reach a clearly higher accuracy in the same number of epochs."
)
OVERFITTING_HINT = N_(
    "The model fits its training images much better than new ones (overfitting, as the chapter "
    "explains): train for fewer epochs, add a Dropout layer, or use a smaller model."
)
MORE_EPOCHS_HINT = N_("Train for more epochs (the chapter uses epochs=5), within the exercise's time limit.")
TIME_LIMIT_OR_MEMORY_HINT = N_(
    "Keep the run within the exercise's limits: fewer epochs or a smaller model, no endless loops."
)
BINARY_CROSSENTROPY_HINT = N_(
    "binary_crossentropy is for two classes (one sigmoid output); with more classes use "
    'loss="sparse_categorical_crossentropy" for integer labels (or "categorical_crossentropy" '
    "for one-hot labels) and a softmax output."
)
NOT_COMPILED_HINT = N_(
    'Compile the model in build_model() before returning it: model.compile(optimizer="adam", '
    'loss="sparse_categorical_crossentropy", metrics=["accuracy"]).'
)
NOT_COMPILED_BEFORE_FIT_HINT = N_(
    'Compile the model before model.fit(...): model.compile(optimizer="adam", '
    'loss="sparse_categorical_crossentropy", metrics=["accuracy"]).'
)
METRICS_POSITIONAL_HINT = N_(
    "compile()'s third positional parameter is loss_weights, not metrics: pass the metrics by "
    'keyword, model.compile(optimizer=..., loss=..., metrics=["accuracy"]).'
)
RETURN_HISTORY_HINT = N_("End train() with `history = model.fit(...)` and `return history`.")
TEST_SPLIT_HINT = N_(
    "Train only on the images the grader hands to train() (or, in load_data(), on the training "
    "split): the test split is for measuring the model, and a model that has seen it says "
    "nothing about new images."
)
TAMPERING_HINT = N_(
    "Remove the code that replaces Keras' methods: the grader tests your saved model with its "
    "own code, so it changes nothing in your grade."
)
MEMORISED_HINT = N_(
    "Train the model in your code on the training images the grader serves, and let the grader "
    "save the model that model.fit trained: a model trained on the test split (at home, or by "
    "loading weights) says nothing about new images."
)
WEIGHTS_HINT = N_(
    "Return (or keep in `model`) the model that model.fit trained, and do not change its weights "
    "afterwards (set_weights, load_weights): the grader scores the model as training left it. To "
    "keep the best epoch, use keras.callbacks.EarlyStopping(restore_best_weights=True)."
)
SAVE_HINT = N_(
    "Remove the save() method from your model class (or the patch that replaces it): the grader "
    "saves the trained model with Keras' own saving function."
)


# =================================================================================================
# Words and small phrases
# =================================================================================================

UNKNOWN = N_("unknown")


def unknown() -> str:
    """What a shape or a range nobody recorded is shown as."""
    return _(UNKNOWN)


def filters(count: int) -> str:
    """The size of a convolution in ``Conv2D(32 filters, relu)``."""
    return say_n("{count} filter", "{count} filters", count)


def epochs(count: int) -> str:
    """``5 epochs``, ``1 epoch``."""
    return say_n("{count} epoch", "{count} epochs", count)


# How the labels a model was trained on are encoded (grader.judges.vocabulary.LabelEncoding).
LABEL_WORDS = {"integer": N_("integer labels (class numbers)"), "one_hot": N_("one-hot labels")}


def label_words(encoding: str | None) -> str:
    """``"integer labels (class numbers)"``; ``"labels"`` when the encoding is not known."""
    return _(LABEL_WORDS.get(encoding or "", N_("labels")))


# How a sentence may end, in either language: a sentence from elsewhere (the sandbox, the
# trusted evaluation) is in the current language too.
SENTENCE_ENDS = (".", "?", "!", "。", "？", "！")


def clause(sentence: str) -> str:
    """``sentence`` without its full stop, to be put inside another sentence."""
    return sentence.rstrip(".。")


def full_stop(text: str) -> str:
    """``text`` ending as a sentence: its own end kept, else a full stop of the language."""
    return text if text.endswith(SENTENCE_ENDS) else say("{text}.", text=text)


# Joining several items into one: each way is a message of its own (not a bare ", " that other
# modules may translate differently), applied pairwise: a, b, c is "{items}, {item}" twice.


def _joined(items: list[str], join: Callable[[str, str], str]) -> str:
    return functools.reduce(join, items) if items else ""


def listing(items: list[str]) -> str:
    """Items joined as a list inside a sentence: ``a, b, c`` (Chinese: ``a、b、c``)."""
    return _joined(items, lambda first, then: say("{items}, {item}", items=first, item=then))


def clauses(items: list[str]) -> str:
    """Clauses joined inside one sentence: ``a; b`` (Chinese: ``a；b``)."""
    return _joined(items, lambda first, then: say("{clauses}; {clause}", clauses=first, clause=then))


def alternatives(items: list[str]) -> str:
    """``"adam" or "sgd"``."""
    return _joined(items, lambda first, then: say("{choices} or {choice}", choices=first, choice=then))


# =================================================================================================
# Diagnoses of an exception (grader.judges.diagnose)
# =================================================================================================


def typographic_quote(quote: str, line: int | None) -> str:
    code = f"{ord(quote):04X}"
    if line:
        return say(
            "Line {line} contains the typographic quote {quote} (U+{code}), which Python does not accept: "
            "it usually comes from copying code out of a book or a word processor. Retype it as a plain "
            "quote, ' or \".",
            line=line,
            quote=quote,
            code=code,
        )
    return say(
        "Your file contains the typographic quote {quote} (U+{code}), which Python does not accept: "
        "it usually comes from copying code out of a book or a word processor. Retype it as a plain "
        "quote, ' or \".",
        quote=quote,
        code=code,
    )


# The kinds of name Keras says it "could not interpret", as a learner reads them.
IDENTIFIER_KINDS = {
    "activation function": N_("activation function"),
    "loss": N_("loss"),
    "optimizer": N_("optimizer"),
    "metric": N_("metric"),
}
# A good name of each kind to suggest when the learner's is not close to any.
IDENTIFIER_EXAMPLES = {
    "activation function": N_('"relu" for hidden layers, "softmax" for the output'),
    "loss": N_('"sparse_categorical_crossentropy"'),
    "optimizer": N_('"adam"'),
    "metric": N_('"accuracy"'),
}


def identifier_case(argument: str, name: str) -> str:
    """``argument`` is the fix as code: ``activation="relu"``."""
    return say('Keras names are case-sensitive: write {argument} instead of "{name}".', argument=argument, name=name)


def identifier_meant(kind: str, name: str, meant: str) -> str:
    return say(
        'Keras has no {kind} called "{name}": did you mean "{meant}"?',
        kind=_(IDENTIFIER_KINDS.get(kind, kind)),
        name=name,
        meant=meant,
    )


def identifier_unknown(kind: str, name: str) -> str:
    return say(
        'Keras has no {kind} called "{name}": use one of its names, e.g. {example}.',
        kind=_(IDENTIFIER_KINDS.get(kind, kind)),
        name=name,
        example=_(IDENTIFIER_EXAMPLES.get(kind, "")),
    )


INTEGER_LABELS_CATEGORICAL_LOSS_HINT = N_(
    "Your labels are integers (class numbers), but categorical_crossentropy expects one-hot labels: "
    'use loss="sparse_categorical_crossentropy" (or one-hot encode the labels with '
    "keras.utils.to_categorical)."
)
ONE_HOT_LABELS_SPARSE_LOSS_HINT = N_(
    "Your labels are one-hot vectors, but sparse_categorical_crossentropy expects integer "
    'labels (class numbers): use loss="categorical_crossentropy", or keep integer labels.'
)


def missing_flatten(shape: str, classes: int, image: str) -> str:
    """``classes`` and ``image`` ("28x28", "32x32x3"): the exercise's dataset's."""
    return say(
        "The model outputs shape {shape} for each image instead of ({classes},): without a Flatten layer, "
        "Dense layers work on each row of the {image} image separately. Add keras.layers.Flatten() as "
        "the first layer (right after the Input).",
        shape=shape,
        classes=classes,
        image=image,
    )


def label_out_of_range(units: str, label: str, classes: int) -> str:
    return say(
        "The output layer has {units} units but the labels go up to {label}: it needs one unit per "
        'class, Dense({classes}, activation="softmax").',
        units=units,
        label=label,
        classes=classes,
    )


METRICS_NOT_LIST_HINT = N_('metrics takes a list: write metrics=["accuracy"], not metrics="accuracy".')


def conv_needs_channel_hint(with_channel: str) -> str:
    """``with_channel``: one image with its channel axis, "(28, 28, 1)"."""
    return say(
        "Conv2D needs images with a channel axis, {with_channel}: start the model with "
        "keras.Input(shape={with_channel}) and reshape the images, or add "
        "keras.layers.Reshape({with_channel}) as the first layer.",
        with_channel=with_channel,
    )


def input_shape_mismatch_hint(image: str, shape: str) -> str:
    """``image``: "28x28"; ``shape``: the images' own shape, "(28, 28)"."""
    return say(
        "The model's input shape does not fit the {image} images it is given: start the model "
        "with keras.Input(shape={shape}) followed by keras.layers.Flatten().",
        image=image,
        shape=shape,
    )


def shape_not_tuple_hint(flat: int, shape: str) -> str:
    """``flat``: values in one image, 784; ``shape``: the images' own shape, "(28, 28)"."""
    return say(
        "A shape is a tuple: write shape=({flat},) with the trailing comma, or shape={shape}.", flat=flat, shape=shape
    )


def still_the_stub(function: str | None) -> str:
    """``function`` is ``"build_model()"``, or None when it is not known which one."""
    if function:
        return say(
            "{function} is still the stub: replace `raise NotImplementedError(...)` with your own code.",
            function=function,
        )
    return say("This function is still the stub: replace `raise NotImplementedError(...)` with your own code.")


def missing_import(statement: str) -> str:
    return say("Add `{statement}` at the top of your file.", statement=statement)


# How to import what a NameError names; only the second one has words to translate.
KERAS_IMPORT = N_("import keras (or: from tensorflow import keras)")


def name_not_defined(name: str) -> str:
    return say('"{name}" is used before it is defined: check its spelling, or define or import it first.', name=name)


def missing_module(module: str) -> str:
    return say(
        'There is no module "{module}" where the grader runs your code: check its spelling, and if it '
        "is installed on your computer, leave it out: the grader provides tensorflow, keras, numpy, "
        "matplotlib, pandas and tensorflow_datasets.",
        module=module,
    )


def layer_name(name: str, meant: str) -> str:
    return say(
        "Keras has no layer {name}: did you mean layers.{meant}? Layer names are case-sensitive.",
        name=name,
        meant=meant,
    )


def layer_scope_name(names: str, first: str, example: str) -> str:
    """TensorFlow refused a layer's ``name=``: ``names`` the invalid names as quoted (one or
    more, listed), ``first`` the one to change first, ``example`` an ASCII name to use."""
    return say(
        "TensorFlow cannot use the layer name {names}: layer names may contain only ASCII letters, digits "
        "and _ . / > - (no Chinese characters, no spaces). Where your code creates the layer, change "
        'name="{first}" to an ASCII name such as name="{example}", or leave name= out.',
        names=names,
        first=first,
        example=example,
    )


SIGNATURE_HINT = N_("Give the function exactly the parameters the exercise names.")


def signature(call: str) -> str:
    return say("The grader calls {call}: define the function with exactly these parameters.", call=call)


MEMORY_HINT = N_(
    "The run ran out of memory: use a smaller model or batch_size, and don't keep extra copies of the dataset."
)
EXIT_HINT = N_("Don't call sys.exit() or exit() in your solution: return from the function instead.")
PROCESS_DIED_HINT = N_(
    "Your code ended the grading process (os._exit, a crash inside TensorFlow, or too much memory): "
    "return from your functions normally and keep the model a reasonable size."
)


def tensorflow_1_input_data(loader: str) -> str:
    return say(
        "This is TensorFlow 1 code: tensorflow.examples.tutorials.mnist (input_data) was removed in "
        "TensorFlow 2. Load the data with {loader}, which returns ((train_images, train_labels), "
        "(test_images, test_labels)) as NumPy arrays.",
        loader=loader,
    )


def tensorflow_1_name(written: str) -> str:
    return say(
        "This is TensorFlow 1 code: {written} was removed in TensorFlow 2, which has no graphs to build, "
        "no placeholder and no Session (code runs as it is written). Rewrite it the TensorFlow 2 way, "
        "with Keras like the chapter's code: model = tf.keras.Sequential([...]), model.compile(...), "
        "model.fit(train_images, train_labels, epochs=5).",
        written=written,
    )


TENSORFLOW_1_COMPAT_HINT = N_(
    "This is TensorFlow 1 code run through tf.compat.v1: a placeholder and a Session build a graph "
    "that TensorFlow 2 does not run, and the grader grades a Keras model. Rewrite it the TensorFlow 2 "
    "way, with Keras like the chapter's code: model = tf.keras.Sequential([...]), model.compile(...), "
    "model.fit(train_images, train_labels, epochs=5)."
)
PREDICT_CLASSES_HINT = N_(
    "model.predict_classes() was removed in TensorFlow 2.6: use np.argmax(model.predict(images), "
    "axis=1), which picks the class with the highest probability for each image."
)
PREDICT_PROBA_HINT = N_(
    "model.predict_proba() was removed in TensorFlow 2.6: model.predict(images) already returns the probabilities."
)


def generator_method(method: str, plain: str) -> str:
    return say(
        "model.{method}() was removed in Keras 3: model.{plain}() takes a generator or a tf.data "
        "dataset itself, so write model.{plain}(generator, ...) with the same arguments "
        "(steps_per_epoch, epochs, validation_data).",
        method=method,
        plain=plain,
    )


def keras_2_lr(rate: str) -> str:
    return say(
        "lr= is the Keras 2 name of the learning rate; Keras 3 calls it learning_rate: write "
        "Adam(learning_rate={rate}) (the same for SGD, RMSprop and the other optimizers).",
        rate=rate,
    )


def checkpoint_weights_name(stem: str) -> str:
    return say(
        "Keras 3 saves weights only to files ending in .weights.h5: write "
        'ModelCheckpoint("{stem}.weights.h5", save_weights_only=True). Older TensorFlow tutorials use '
        '"cp.ckpt", which Keras 3 refuses.',
        stem=stem,
    )


def save_weights_name(stem: str) -> str:
    return say(
        'Keras 3 saves weights only to files ending in .weights.h5: write model.save_weights("{stem}.weights.h5").',
        stem=stem,
    )


def checkpoint_model_name(stem: str) -> str:
    return say(
        'Keras 3 saves whole models to .keras files: write ModelCheckpoint("{stem}.keras"), or add '
        'save_weights_only=True and a name ending in ".weights.h5".',
        stem=stem,
    )


def save_model_name(stem: str) -> str:
    return say(
        'Keras 3 saves a model to a file ending in .keras: write model.save("{stem}.keras") (a folder '
        "in TensorFlow's SavedModel format is no longer written by save()).",
        stem=stem,
    )


def np_utils(classes: int) -> str:
    """``classes``: how many classes the exercise's dataset has (the one-hot width)."""
    return say(
        "keras.utils.np_utils was removed in Keras 3; to_categorical is now in keras.utils itself: "
        "write `from tensorflow.keras.utils import to_categorical` and call to_categorical(labels, {classes}) "
        "(not np_utils.to_categorical).",
        classes=classes,
    )


EXPERIMENTAL_PREPROCESSING_HINT = N_(
    "keras.layers.experimental.preprocessing was where TensorFlow 2.3-2.5 kept the preprocessing "
    "layers; they are ordinary layers now: write keras.layers.Rescaling(1 / 255) "
    "(tf.keras.layers.Rescaling), keras.layers.Normalization(), keras.layers.RandomFlip(...)."
)


def logs_key(old: str, new: str, key_error: bool) -> str:
    if key_error:
        why = say("logs['{old}'] does not exist", old=old)
    else:
        why = say("logs.get('{old}') is None, which cannot be compared", old=old)
    return say(
        "TensorFlow 1 named the accuracy '{old}' in a callback's logs; TensorFlow 2 names it after the "
        "metric given to compile(), so with metrics=[\"accuracy\"] the key is '{new}': write "
        "logs.get('{new}') ({why}).",
        old=old,
        new=new,
        why=why,
    )


def labels_against_outputs(batch: str, outputs: str, classes: str, loss: str | None) -> str:
    """``loss`` is the canonical name of the model's loss, None when it is not known."""
    named = say("loss {loss}", loss=loss) if loss is not None else say("the loss")
    return say(
        "The labels hold one class number per image (shape [{batch}]) but the model outputs {classes} "
        "values per image ([{outputs}, {classes}]), and {named} compares them value by value. For class "
        'labels use loss="sparse_categorical_crossentropy", which compares each label with the '
        "predicted probabilities.",
        batch=batch,
        outputs=outputs,
        classes=classes,
        named=named,
    )


def colab_only(loader: str) -> str:
    return say(
        "This happens only where the grader runs your code, not where you ran it: google.colab exists "
        "only inside Colab. Leave out `from google.colab import ...` and drive.mount(...), and load the "
        "data with {loader}, which the grader serves.",
        loader=loader,
    )


def file_not_there(name: str | None, loader: str) -> str:
    if name is not None:
        return say(
            'The grader runs your file on its own, in an empty working folder: the file "{name}" your '
            "code opens is not there, even if it is next to your solution on your computer. Load the "
            "data with {loader} (served offline), and write any other file before your code reads it.",
            name=name,
            loader=loader,
        )
    return say(
        "The grader runs your file on its own, in an empty working folder: the file your code opens is "
        "not there, even if it is next to your solution on your computer. Load the data with {loader} "
        "(served offline), and write any other file before your code reads it.",
        loader=loader,
    )


# --- what the History shows (clauses, used inside other sentences) -------------------------------


def loss_became(value: str, epoch: int) -> str:
    return say("the training loss became {value} at epoch {epoch}", value=value, epoch=epoch)


def loss_rose(first: float, last: float) -> str:
    return say("the training loss rose from {first:.4g} to {last:.4g}", first=first, last=last)


def learned_nothing(loss: float, classes: int, accuracy: float | None) -> str:
    if accuracy is not None:
        return say(
            "the model learned nothing (training accuracy {accuracy:.4f}, final loss {loss:.4g}, no "
            "better than guessing among {classes} classes)",
            accuracy=accuracy,
            loss=loss,
            classes=classes,
        )
    return say(
        "the model learned nothing (final loss {loss:.4g}, no better than guessing among {classes} classes)",
        loss=loss,
        classes=classes,
    )


def accuracy_still_rising(before: float, last: float) -> str:
    return say(
        "training accuracy was still rising at the last epoch ({before:.4f} -> {last:.4f})", before=before, last=last
    )


def loss_still_falling(before: float, last: float) -> str:
    return say(
        "the training loss was still falling at the last epoch ({before:.4f} -> {last:.4f})", before=before, last=last
    )


def single_epoch() -> str:
    return say("the model was trained for a single epoch")


# =================================================================================================
# Causes: why the evidence a check needs is missing (grader.judges.causes)
# =================================================================================================


def not_checked_because(brief: str) -> str:
    return say("Not checked, because {brief}.", brief=brief)


def file_not_run(exception: str, text: str, location: str) -> str:
    """``exception`` is the type Python raised, ``text`` its message, ``location`` "x.py, line 3" or ""."""
    if location:
        return say(
            "Your file could not be run: {exception} at {location}: {text}",
            exception=exception,
            location=location,
            text=text,
        )
    return say("Your file could not be run: {exception}: {text}", exception=exception, text=text)


def file_not_run_brief(exception: str, location: str) -> str:
    if location:
        return say("the file could not be run ({exception} at {location})", exception=exception, location=location)
    return say("the file could not be run ({exception})", exception=exception)


def not_written_yet(function: str, location: str) -> str:
    if location:
        return say(
            "{function} is not written yet: it still raises NotImplementedError at {location}.",
            function=function,
            location=location,
        )
    return say("{function} is not written yet: it still raises NotImplementedError.", function=function)


def not_written_yet_brief(function: str) -> str:
    return say("{function} is not written yet", function=function)


def function_raised(function: str, exception: str, text: str, location: str) -> str:
    if location:
        return say(
            "{function} raised {exception} at {location}: {text}",
            function=function,
            exception=exception,
            location=location,
            text=text,
        )
    return say("{function} raised {exception}: {text}", function=function, exception=exception, text=text)


def function_raised_brief(function: str, exception: str, location: str) -> str:
    if location:
        return say(
            "{function} raised {exception} ({location})", function=function, exception=exception, location=location
        )
    return say("{function} raised {exception}", function=function, exception=exception)


# How the sandbox names a notebook cell in a traceback's frames (grader.sandbox.child):
# "analysis.ipynb, cell 5". Said here in the learner's language.
_NOTEBOOK_CELL = re.compile(r"(?P<file>.+), cell (?P<cell>[0-9]+)")


def location(file: str, line: int) -> str:
    cell = _NOTEBOOK_CELL.fullmatch(file)
    if cell is not None:
        return say("{file}, cell {cell}, line {line}", file=cell["file"], cell=int(cell["cell"]), line=line)
    return say("{file}, line {line}", file=file, line=line)


NOTEBOOK_TRACEBACK_HINT = N_(
    "Restart your notebook's kernel and run all its cells in order (Restart & Run All): the same "
    "error shows with its full traceback; fix the cell and line it names."
)
SAVED_MODEL_LOAD_HINT = N_(
    "Load the file yourself with keras.models.load_model(...) to see the full error; save the model "
    'again with model.save("model.keras") if it does not load.'
)
IMPORT_TRACEBACK_HINT = N_("Run your file with `python` to see the error, fix the line it names, and grade again.")


def script_traceback(submission: str) -> str:
    return say(
        "Run your script with `python {submission}` to see the full traceback, and fix the line it names.",
        submission=submission,
    )


def call_traceback(call: str) -> str:
    """``call`` is ``build_model()`` or ``solution_model()``."""
    return say(
        "Call {call} yourself (in a notebook or a script) to see the full traceback, and fix the line it names.",
        call=call,
    )


def does_not_define(submission: str, function: str) -> str:
    return say("{submission} does not define {function}().", submission=submission, function=function)


def does_not_define_brief(function: str) -> str:
    return say("{function}() is not defined", function=function)


def not_a_function(submission: str, function: str) -> str:
    return say("{function} in {submission} is not a function.", submission=submission, function=function)


def not_a_function_brief(function: str) -> str:
    return say("{function} is not a function", function=function)


def define_function(name: str, parameters: str) -> str:
    return say(
        "Define the function `def {name}({parameters}):` at the top level of your file.",
        name=name,
        parameters=parameters,
    )


LOAD_DATA_STRUCTURE = N_("load_data() did not return ((train_images, train_labels), (test_images, test_labels)).")
LOAD_DATA_STRUCTURE_BRIEF = N_("load_data() did not return usable data")


def stopped_by_limit(limit: str, step: str | None) -> str:
    """The run was stopped before the step ``step`` (a label, ``build_model()``) finished, or
    before the file was imported when ``step`` is None."""
    if step is None:
        return say("The run was stopped by the {limit} limit before your file was imported.", limit=limit_name(limit))
    return say("The run was stopped by the {limit} limit before {step} finished.", limit=limit_name(limit), step=step)


def stopped_by_limit_brief(limit: str) -> str:
    return say("the run hit the {limit} limit", limit=limit_name(limit))


def ended_unexpectedly(code: int, step: str | None) -> str:
    if step is None:
        return say("The run ended unexpectedly (exit code {code}) before your file was imported.", code=code)
    return say("The run ended unexpectedly (exit code {code}) before {step} finished.", code=code, step=step)


def ended_unexpectedly_brief(code: int) -> str:
    return say("the run ended unexpectedly (exit code {code})", code=code)


def step_not_run(step: str) -> str:
    return say("{step} was not run, so there is nothing to check.", step=step)


def step_not_run_brief(step: str) -> str:
    return say("{step} was not run", step=step)


def left_no_model(who: str) -> str:
    return say("{who} left no model to inspect.", who=who)


NO_MODEL_BRIEF = N_("there is no model to inspect")
NO_KERAS_MODEL_BRIEF = N_("there is no Keras model to inspect")


def source_not_a_model(source: str, returned: str) -> str:
    """``source`` is where the model was looked for ("The model in your script's variable `model`")."""
    return say("{source} is {returned}, not a Keras model.", source=source, returned=returned)


SOURCE_NOT_A_MODEL_HINT = N_("Make sure it is the keras.Model you built and trained (keras.Sequential or keras.Model).")
RETURN_MODEL_HINT = N_("End build_model() with `return model`.")
RETURN_KERAS_MODEL_HINT = N_("build_model() must return the keras.Model it builds (keras.Sequential or keras.Model).")


def returned_not_a_model(returned: str) -> str:
    return say("build_model() returned {returned} instead of a Keras model.", returned=returned)


NOT_A_KERAS_MODEL_BRIEF = N_("build_model() did not return a Keras model")


# =================================================================================================
# What the submission defines and the data it loads (grader.judges.structure)
# =================================================================================================

SAVED_MODEL_NO_FUNCTIONS = N_("A saved model has no functions to check.")
NO_FUNCTIONS_ASKED = N_("This exercise asks for no functions.")


def not_recorded_defined(function: str) -> str:
    return say("The run did not record whether {function}() is defined.", function=function)


def cannot_be_called_as(written: str, call: str) -> str:
    return say("{written} cannot be called as {call}", written=written, call=call)


def still_raises_not_implemented(function: str) -> str:
    return say("{function}() still raises NotImplementedError (the stub's placeholder)", function=function)


def named_differently(written: str, call: str) -> str:
    return say("{written} names its parameters differently from {call}, which is fine", written=written, call=call)


def problems_sentence(problems: list[str]) -> str:
    """Problems found by one check, as one sentence: ``a; b.``."""
    return say("{problems}.", problems=clauses(problems))


def define_each_function(calls: str) -> str:
    return say(
        "Define each function the exercise asks for, with these parameters, and replace every "
        "`raise NotImplementedError` with your code: {calls}.",
        calls=calls,
    )


def defined_and_implemented(calls: str, notes: list[str]) -> str:
    if notes:
        return say("Defined and implemented: {calls}. ({notes}.)", calls=calls, notes=clauses(notes))
    return say("Defined and implemented: {calls}.", calls=calls)


def entry_not_defined(function: str, submission: str) -> str:
    return say("{function}() is not defined in {submission}.", function=function, submission=submission)


def entry_not_a_function(function: str, submission: str) -> str:
    return say("{function}() is not a function in {submission}.", function=function, submission=submission)


def define_solution_function(function: str) -> str:
    return say(
        "Define `def {function}():` that loads the data, builds, compiles and trains the model and ends "
        "with `return model`.",
        function=function,
    )


def failed_after_training(sentence: str) -> str:
    """``sentence`` (the run's error, a full sentence) followed by what it means for the grade."""
    return say("{sentence} This was after training, so the trained model was still graded.", sentence=sentence)


def ran_to_the_end(source: str | None) -> str:
    if source:
        return say("The code ran to the end; {source} is a Keras model.", source=source)
    return say("The code ran to the end; the model is a Keras model.")


LOAD_DATA_NOT_RECORDED = N_("The run did not record what load_data() returned.")
LOAD_DATA_ARRAYS_NOT_RECORDED = N_("The run did not record all four arrays load_data() returned.")
SOMETHING_ELSE = N_("something else")


def load_data_structure(returned: str) -> str:
    return say(
        "load_data() returned {returned}; the exercise asks for ((train_images, train_labels), "
        "(test_images, test_labels)) of NumPy arrays.",
        returned=returned,
    )


LOAD_DATA_STRUCTURE_HINT = N_(
    "Return the two pairs as NumPy arrays: `return (train_images, train_labels), (test_images, "
    "test_labels)`. With tensorflow_datasets, load with batch_size=-1 and convert with "
    "tfds.as_numpy(...), or use tf.keras.datasets.mnist.load_data()."
)


def array_shape(name: str, shape: str) -> str:
    return say("{name} {shape}", name=name, shape=shape)


def image_shape_problem(shown: str, allowed: str) -> str:
    return say("image shape {shown} is not one of {allowed}", shown=shown, allowed=allowed)


def keep_images_size(image: str) -> str:
    return say("keep each image {image}", image=image)


def array_dtype(name: str, dtype: str) -> str:
    return say("{name} is {dtype}", name=name, dtype=dtype)


CONVERT_TO_FLOAT = N_('convert the images to floats, e.g. images.astype("float32") / 255.0')


def array_range(name: str, low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return say("{name} ranges {range}", name=name, range=unknown())
    return say("{name} ranges {low:g} to {high:g}", name=name, low=low, high=high)


def not_scaled(shown: str) -> str:
    return say("pixels are not scaled to [0, 1] ({shown})", shown=shown)


DIVIDE_BY_255 = N_("divide the images by 255.0")


def labels_problem(name: str, problem: str) -> str:
    return say("{name}: {problem}", name=name, problem=problem)


def return_integer_labels(highest: int) -> str:
    return say("return the labels as integers 0-{highest}, shape (N,)", highest=highest)


def counts_mismatch(images: str, n_images: int, labels: str, n_labels: int) -> str:
    return say(
        "{images} has {n_images} images but {labels} has {n_labels} labels",
        images=images,
        n_images=n_images,
        labels=labels,
        n_labels=n_labels,
    )


KEEP_SPLITS_TOGETHER = N_("return each split's images and labels together, unshuffled against each other")


def load_data_counts(n_train: int, n_test: int) -> str:
    return say("{n_train:,} training and {n_test:,} test images", n_train=n_train, n_test=n_test)


def load_data_passed(counts: str, shape: str, dtype: str, one_hot: bool) -> str:
    if one_hot:
        return say(
            "load_data() returned {counts} of shape {shape}, {dtype} in [0, 1], with one-hot labels.",
            counts=counts,
            shape=shape,
            dtype=dtype,
        )
    return say(
        "load_data() returned {counts} of shape {shape}, {dtype} in [0, 1], with integer labels.",
        counts=counts,
        shape=shape,
        dtype=dtype,
    )


def load_data_failed(counts: str, problems: list[str]) -> str:
    return say("load_data() returned {counts}, but: {problems}.", counts=counts, problems=clauses(problems))


def fixes(items: list[str]) -> str:
    """Several fixes, each a clause starting in lower case, as one hint sentence."""
    joined = clauses(items)
    if current_language() == "en":  # Chinese has no capitals; names keep their spelling
        joined = joined[:1].upper() + joined[1:]
    return say("{fixes}.", fixes=joined)


def label_dtype_problem(dtype: str) -> str:
    return say("{dtype} values instead of integers", dtype=dtype)


def label_values_problem(low: float, high: float, highest: int) -> str:
    return say("values {low:g} to {high:g} instead of 0 to {highest}", low=low, high=high, highest=highest)


def label_shape_problem(shape: str, classes: int) -> str:
    return say("shape {shape} instead of (N,) or (N, {classes})", shape=shape, classes=classes)


def fit_pixels_scaled(low: float, high: float) -> str:
    return say("model.fit() received pixels from {low:g} to {high:g}: scaled to [0, 1].", low=low, high=high)


def fit_pixels_not_scaled(low: float, high: float) -> str:
    return say("model.fit() received pixels from {low:g} to {high:g}: not scaled to [0, 1].", low=low, high=high)


DIVIDE_BEFORE_TRAINING_HINT = N_("Divide the images by 255.0 before training.")
WORKS_ON_UNIT_PIXELS = N_("The model works on pixels scaled to [0, 1], so it was trained on them.")
WORKS_ON_RAW_PIXELS = N_("The model works best on raw 0-255 pixels, so it was trained on unscaled images.")
SCALING_UNKNOWN = N_("Could not tell how the training images were scaled: the model was not tested.")
# Quick mode tests no model (grader.quick): the start is interface.NOT_MEASURED's, translated alike.
SCALING_NOT_MEASURED_QUICK = N_(
    "Not measured in quick mode: how the training images were scaled is told by testing the trained model, "
    "which a full grading does."
)


def scaling_untrained(unit: float, raw: float, chance: float) -> str:
    return say(
        "Could not tell how the training images were scaled: on a sample of training images the model "
        "does not do clearly better than guessing ({chance:.2f}), with pixels scaled to [0, 1] ({unit:.2f}) "
        "or raw 0-255 pixels ({raw:.2f}), so it looks untrained. No points: train it on images divided by "
        "255.0 before saving it.",
        unit=unit,
        raw=raw,
        chance=chance,
    )


def scaling_either_way(unit: float, raw: float) -> str:
    return say(
        "The model works on pixels scaled to [0, 1] ({unit:.2f} on a sample of training images), "
        "and about as well on raw 0-255 pixels ({raw:.2f}): it copes with either scaling.",
        unit=unit,
        raw=raw,
    )


# A model that scales its own pixels (grader.judges.scaling): {layer} is the layer as written,
# e.g. "Rescaling(1/255)" or "Normalization()".


def model_scales_pixels(layer: str) -> str:
    return say(
        "The model scales the pixels itself with its {layer} layer, so it is rightly given raw 0-255 pixels.",
        layer=layer,
    )


def fit_pixels_scaled_by_model(low: float, high: float, layer: str) -> str:
    return say(
        "model.fit() received pixels from {low:g} to {high:g}, and the model scales them itself with its "
        "{layer} layer: its input is scaled.",
        low=low,
        high=high,
        layer=layer,
    )


def scaled_twice(layer: str) -> str:
    return say(
        "The images were already divided by 255, and the model's {layer} layer scales them again: the "
        "model sees pixels between 0 and about 1/255.",
        layer=layer,
    )


SCALE_ONCE_HINT = N_(
    "Scale the pixels once: either give the model the raw 0-255 images (its Rescaling layer divides "
    "them) or remove the Rescaling layer and keep your division by 255.0."
)


def scaled_twice_problem(layer: str) -> str:
    return say("the images are already in [0, 1] and the model's {layer} layer divides them again", layer=layer)


SCALE_ONCE = N_("scale the pixels once: return raw 0-255 images, or remove the model's Rescaling layer")


def load_data_passed_model_scales(counts: str, shape: str, dtype: str, layer: str, one_hot: bool) -> str:
    if one_hot:
        return say(
            "load_data() returned {counts} of shape {shape}, {dtype}, with one-hot labels; the model "
            "scales the pixels itself with its {layer} layer.",
            counts=counts,
            shape=shape,
            dtype=dtype,
            layer=layer,
        )
    return say(
        "load_data() returned {counts} of shape {shape}, {dtype}, with integer labels; the model "
        "scales the pixels itself with its {layer} layer.",
        counts=counts,
        shape=shape,
        dtype=dtype,
        layer=layer,
    )


def scaling_untrained_self(unit: float, raw: float, chance: float, layer: str) -> str:
    return say(
        "The model scales the pixels itself with its {layer} layer, but on a sample of training images "
        "it does not do clearly better than guessing ({chance:.2f}) with raw 0-255 pixels ({raw:.2f}) or "
        "pixels scaled to [0, 1] ({unit:.2f}), so it looks untrained. No points: train it before saving it.",
        unit=unit,
        raw=raw,
        chance=chance,
        layer=layer,
    )


# =================================================================================================
# The model (grader.judges.model)
# =================================================================================================


def model_described(kind: str, layers: int, parameters: int | None) -> str:
    """``a Sequential model with 3 layers, 50,890 parameters``."""
    if parameters is not None:
        return say_n(
            "a {kind} model with {count} layer, {parameters:,} parameters",
            "a {kind} model with {count} layers, {parameters:,} parameters",
            layers,
            kind=kind,
            parameters=parameters,
        )
    return say_n("a {kind} model with {count} layer", "a {kind} model with {count} layers", layers, kind=kind)


def source_is(source: str, described: str) -> str:
    return say("{source} is {described}.", source=source, described=described)


def build_model_returned(described: str) -> str:
    return say("build_model() returned {described}.", described=described)


MODEL_COMPILED = N_("The model is compiled.")
SAVED_MODEL_NOT_COMPILED = N_(
    "The saved model has no compile settings: it was saved before model.compile(...), or without its optimizer."
)
SAVED_MODEL_NOT_COMPILED_HINT = N_('Compile and train the model, then save it with model.save("model.keras").')
NEVER_COMPILED = N_("The model is never compiled, so Keras cannot train it.")
# No model.fit() call either, and no measurement says whether the model learned (quick mode).
NEVER_COMPILED_NO_FIT = N_(
    "The model is never compiled, and the code never calls model.fit(). The exercise asks for "
    "model.compile() and model.fit(), as the chapter does."
)
COMPILE_AND_FIT_HINT = N_(
    'Compile the model and train it with fit(), as the chapter does: model.compile(optimizer="adam", '
    'loss="sparse_categorical_crossentropy", metrics=["accuracy"]), then '
    "model.fit(train_images, train_labels, epochs=5)."
)


def compiled_trained_without_fit(accuracy: float) -> str:
    """Not compiled, yet trained: a custom training loop (the grader measured ``accuracy``)."""
    return say(
        "The model is not compiled: it was trained another way (the grader measured {accuracy:.2f} on "
        "training images), for example with a custom training loop, not with model.compile() and "
        "model.fit(). The exercise asks for model.compile() and model.fit(), as the chapter does.",
        accuracy=accuracy,
    )


COMPILE_BEFORE_TRAINING_HINT = N_(
    'Compile the model before training it: model.compile(optimizer="adam", '
    'loss="sparse_categorical_crossentropy", metrics=["accuracy"]).'
)
RETURNS_COMPILED = N_("build_model() returns a compiled model.")
COMPILED_IN_TRAIN = N_("build_model() returns an uncompiled model; it is compiled later, in train().")
COMPILED_IN_TRAIN_HINT = N_("Move model.compile(...) into build_model(), just before `return model`.")
NO_INPUT_SHAPE_UNTRAINED = N_("Could not tell the model's input shape: it declares none and was never trained.")
NO_INPUT_SHAPE = N_("The model declares no input shape.")
# Shapes and class counts below are the exercise's dataset's (grader.datasets registry entry),
# passed in by the judges: never assumed to be MNIST's.


def declare_input_hint(shape: str) -> str:
    return say("Start the model with keras.Input(shape={shape}) so its input shape is known.", shape=shape)


def takes_images(shape: str, as_trained: bool) -> str:
    if as_trained:
        return say(
            "The model takes images of shape {shape} (as trained: the model declares no input shape).", shape=shape
        )
    return say("The model takes images of shape {shape}.", shape=shape)


def wrong_input_shape(shape: str, allowed: str, as_trained: bool, image: str) -> str:
    """``image``: one image of the dataset, "28x28" or "32x32x3"."""
    if as_trained:
        return say(
            "The model takes inputs of shape {shape} (as trained: the model declares no input shape); {image} "
            "images need one of {allowed}.",
            shape=shape,
            allowed=allowed,
            image=image,
        )
    return say(
        "The model takes inputs of shape {shape}; {image} images need one of {allowed}.",
        shape=shape,
        allowed=allowed,
        image=image,
    )


def input_shape_hint(shape: str, channels_shape: str | None) -> str:
    """``shape``: the images' own shape, "(28, 28)"; ``channels_shape``: with a channel axis for
    Conv2D, "(28, 28, 1)", or None when the images already have one (RGB)."""
    if channels_shape is None:
        return say(
            "Start the model with keras.Input(shape={shape}); put keras.layers.Flatten() before the "
            "Dense layers (Conv2D layers take the images as they are).",
            shape=shape,
        )
    return say(
        "Start the model with keras.Input(shape={shape}) followed by keras.layers.Flatten() (or "
        "Input(shape={channels_shape}) for Conv2D layers).",
        shape=shape,
        channels_shape=channels_shape,
    )


NO_OUTPUT_LAYER = N_("The model has no Dense (or other trainable) layer to produce the output.")


def end_with_output(units: int, activation: str) -> str:
    return say('End the model with Dense({units}, activation="{activation}").', units=units, activation=activation)


def output_not_vector(shape: str, units: int) -> str:
    return say("The model outputs shape {shape} for each image, not ({units},).", shape=shape, units=units)


def flatten_before_output(units: int) -> str:
    return say("Flatten before the output layer so it gives one vector of {units} values per image.", units=units)


def wrong_output_units(units: object, wanted: int) -> str:
    return say("it has {units} units, but there are {wanted} classes", units=units, wanted=wanted)


def one_unit_per_class(wanted: int) -> str:
    return say("the output layer needs one unit per class: Dense({wanted}, ...)", wanted=wanted)


LOGITS_NOT_ASKED = N_(
    "it outputs logits (linear, with from_logits=True in the loss), which works, but the exercise asks for a softmax output"
)


def use_activation_without_logits(activation: str) -> str:
    return say(
        'use activation="{activation}" in the output layer and a loss without from_logits=True', activation=activation
    )


def use_output_activation(activation: str) -> str:
    return say(
        'use activation="{activation}" in the output layer, so it gives one probability per class',
        activation=activation,
    )


SIGMOID_OUTPUT = N_(
    "sigmoid scores each class independently (for yes/no or multi-label outputs), not one choice among the classes"
)
LINEAR_OUTPUT = N_(
    "it has no activation, so it outputs unnormalised scores (logits) while the loss expects probabilities"
)
# The same when nothing was compiled: there is no loss to expect anything.
LINEAR_OUTPUT_NOT_COMPILED = N_(
    "it has no activation, so it outputs unnormalised scores (logits), not the probabilities the exercise asks for"
)


def other_activation(activation: str, wanted: str) -> str:
    return say("its activation is {activation}, not {wanted}", activation=activation, wanted=wanted)


def output_layer_passed(described: str, logits: bool) -> str:
    if logits:
        return say("The output layer is {described} (logits, with from_logits=True in the loss).", described=described)
    return say("The output layer is {described}.", described=described)


def output_layer_failed(described: str, problems: list[str]) -> str:
    return say("The output layer is {described}: {problems}.", described=described, problems=clauses(problems))


NONE = N_("none")


def too_few_hidden(found: int, needed: int) -> str:
    return say_n(
        "The model has {count} hidden layer (between input and output); at least {needed} needed.",
        "The model has {count} hidden layers (between input and output); at least {needed} needed.",
        found,
        needed=needed,
    )


ADD_HIDDEN_HINT = N_(
    'Add a hidden layer with a nonlinear activation before the output, e.g. Dense(128, activation="relu").'
)


def hidden_all_linear(shown: str) -> str:
    return say(
        "Hidden layers: {shown}. None has a nonlinear activation, so the whole network is still a linear model.",
        shown=shown,
    )


HIDDEN_ACTIVATION_HINT = N_('Give the hidden layers an activation, e.g. activation="relu".')


def over_budget(shown: str, count: int, budget: int) -> str:
    return say(
        "Hidden layers: {shown}; but the model has {count:,} parameters, over the budget of {budget:,}.",
        shown=shown,
        count=count,
        budget=budget,
    )


OVER_BUDGET_HINT = N_(
    "Use fewer or smaller layers (e.g. Dense(128) instead of Dense(1024), or a MaxPooling2D before "
    "Flatten in a CNN): a model this size is slow to train and overfits easily."
)


def hidden_passed(shown: str, count: int | None, budget: int | None) -> str:
    if count is None:
        return say("Hidden layers: {shown}.", shown=shown)
    if budget is None:
        return say("Hidden layers: {shown}, {count:,} parameters.", shown=shown, count=count)
    return say(
        "Hidden layers: {shown}, {count:,} parameters (budget {budget:,}).", shown=shown, count=count, budget=budget
    )


def other_architecture(shown: str, count: int, wanted: str) -> str:
    return say_n(
        "Hidden layers: {shown}. This is a different architecture from the one the exercise asks for: the "
        "chapter's network has exactly {count} hidden layer, {wanted} (between Flatten and the output "
        "layer), so the architecture points are not given, however well the model does.",
        "Hidden layers: {shown}. This is a different architecture from the one the exercise asks for: the "
        "chapter's network has exactly {count} hidden layers, {wanted} (between Flatten and the output "
        "layer), so the architecture points are not given, however well the model does.",
        count,
        shown=shown,
        wanted=wanted,
    )


def build_chapter_network(wanted: str) -> str:
    return say("Build the chapter's network: Flatten, then {wanted}, then the output layer.", wanted=wanted)


def hidden_as_asked(shown: str) -> str:
    return say("Hidden layers: {shown}, as the exercise asks.", shown=shown)


def hidden_not_exactly(shown: str, wanted: str) -> str:
    return say("Hidden layers: {shown}; the exercise asks for exactly {wanted}.", shown=shown, wanted=wanted)


def use_exactly(wanted: str) -> str:
    return say("Between Flatten and the output layer, use exactly {wanted}.", wanted=wanted)


def required_layer(layer: str, rate: tuple[float, float] | None) -> str:
    """A layer ``required_layers`` asks for, as a hint names it: ``a Dropout layer (rate 0.2 to 0.5)``."""
    if rate is None:
        return say("a {layer} layer", layer=layer)
    return say("a {layer} layer (rate {low:g} to {high:g})", layer=layer, low=rate[0], high=rate[1])


def and_list(items: list[str]) -> str:
    """``a Dropout layer and a BatchNormalization layer``."""
    return _joined(items, lambda first, then: say("{items} and {item}", items=first, item=then))


def missing_required_layer(layer: str) -> str:
    return say("the model has no {layer} layer, which the exercise asks for", layer=layer)


def required_rate_wrong(layer: str, rates: list[float | None], low: float, high: float) -> str:
    shown = listing([f"{rate:g}" if rate is not None else unknown() for rate in rates])
    return say(
        "its {layer} rate is {shown}; the exercise asks for a rate from {low:g} to {high:g}",
        layer=layer,
        shown=shown,
        low=low,
        high=high,
    )


def but_also(message: str, problems: list[str]) -> str:
    """A verdict's message (a sentence, in either language) and what else is wrong."""
    return say("{message}. But {problems}.", message=message.rstrip(".。"), problems=clauses(problems))


def add_required_layers(layers: str) -> str:
    return say("Add {layers} to the model, e.g. after the hidden Dense layer.", layers=layers)


# =================================================================================================
# model.compile(...): loss, optimizer, metrics (grader.judges.compile)
# =================================================================================================

NOT_CHECKED_NOT_COMPILED = N_("Not checked: the model is never compiled (see the compile check).")


def compile_settings_unreadable(error: str) -> str:
    return say("Could not read the model's compile settings: {error}", error=error)


# Why a loss that is not a cross-entropy does not fit a classifier.
OTHER_LOSS_HINTS = {
    "mean_squared_error": N_(
        "mean squared error is for predicting numbers (regression), not for choosing one of {classes} classes"
    ),
    "mean_absolute_error": N_(
        "mean absolute error is for predicting numbers (regression), not for choosing one of {classes} classes"
    ),
    "categorical_hinge": N_("hinge losses are for margin classifiers, not softmax outputs"),
    "hinge": N_("hinge losses are for margin classifiers, not softmax outputs"),
}
NOT_A_CROSS_ENTROPY = N_("it is not a cross-entropy for one-of-{classes} classification")


def why_other_loss(loss: str, classes: int) -> str:
    return say(OTHER_LOSS_HINTS.get(loss, NOT_A_CROSS_ENTROPY), classes=classes)


NO_LOSS = N_("The model is compiled without a loss.")


def pass_loss(loss: str) -> str:
    return say('Pass loss="{loss}" to model.compile().', loss=loss)


def binary_loss(written: str, classes: int) -> str:
    return say("The loss is {written}, which is for two classes, not {classes}.", written=written, classes=classes)


def loss_is_because(written: str, why: str) -> str:
    return say("The loss is {written}: {why}.", written=written, why=why)


def use_loss(wanted: str) -> str:
    return say("Use loss={wanted}.", wanted=wanted)


def loss_but(written: str, mismatch: str) -> str:
    return say("The loss is {written}, but {mismatch}.", written=written, mismatch=mismatch)


INTEGER_LABELS_CATEGORICAL = N_(
    "the labels are integers (class numbers) and categorical_crossentropy expects one-hot labels"
)
INTEGER_LABELS_CATEGORICAL_HINT = N_(
    'Use loss="sparse_categorical_crossentropy" for integer labels (or one-hot encode them with keras.utils.to_categorical).'
)
ONE_HOT_LABELS_SPARSE = N_("the labels are one-hot vectors and sparse_categorical_crossentropy expects integer labels")
ONE_HOT_LABELS_SPARSE_HINT = N_(
    'Use loss="categorical_crossentropy" for one-hot labels (or keep the labels as integers).'
)


def logits_and_softmax(written: str) -> str:
    return say(
        "The loss is {written}, which says the model outputs raw scores (logits), but the output layer "
        "applies softmax, so it outputs probabilities. (Keras 3 notices and warns; elsewhere softmax "
        "would be applied twice.)",
        written=written,
    )


REMOVE_FROM_LOGITS_HINT = N_("Remove from_logits=True from the loss (or remove the softmax from the output layer).")


def probabilities_expected(written: str) -> str:
    return say(
        "The loss is {written} but the output layer has no activation: the loss treats the raw scores "
        "(logits) as probabilities.",
        written=written,
    )


ADD_SOFTMAX_HINT = N_('Add activation="softmax" to the output layer (or pass from_logits=True to the loss).')


def loss_works_but(written: str, encoding: str | None, wanted: str) -> str:
    if encoding:
        return say(
            "The loss is {written} for {labels}: it works, but the exercise asks for {wanted}.",
            written=written,
            labels=label_words(encoding),
            wanted=wanted,
        )
    return say("The loss is {written}: it works, but the exercise asks for {wanted}.", written=written, wanted=wanted)


def loss_passed(written: str, encoding: str | None) -> str:
    if encoding:
        return say("The loss is {written} for {labels}.", written=written, labels=label_words(encoding))
    return say("The loss is {written}.", written=written)


NO_OPTIMIZER = N_("The model's compile settings record no optimizer.")


def optimizer_shown(written: str, rate: float | None) -> str:
    """``Adam (learning rate 0.001)``, or ``Adam`` when the rate is not known."""
    if rate is None:
        return written
    return say("{optimizer} (learning rate {rate:g})", optimizer=written, rate=rate)


def other_optimizer(shown: str, wanted: str) -> str:
    return say("The optimizer is {shown}; the exercise asks for {wanted}.", shown=shown, wanted=wanted)


def compile_with_optimizer(wanted: str) -> str:
    return say("Compile with optimizer={wanted}.", wanted=wanted)


def learning_rate_too_high(written: str, rate: float, default: float, divergence: str) -> str:
    return say(
        "The optimizer is {optimizer} with learning rate {rate:g}, {times:.0f} times its default of "
        "{default:g}, and {divergence}.",
        optimizer=written,
        rate=rate,
        times=rate / default,
        default=default,
        divergence=divergence,
    )


def optimizer_passed(shown: str) -> str:
    return say("The optimizer is {shown}.", shown=shown)


def metrics_to_loss_weights(weights: str) -> str:
    return say(
        "The metrics went to loss_weights instead ({weights}): the third positional argument of compile() is loss_weights.",
        weights=weights,
    )


NO_METRICS = N_("The model is compiled without metrics, so training reports no accuracy.")
ADD_METRICS_HINT = N_('Add metrics=["accuracy"] to model.compile(...).')


def metrics_passed(shown: str) -> str:
    return say("Metrics: {shown}.", shown=shown)


def metric_does_not_fit(metric: str, encoding: str | None, why: str) -> str:
    return say(
        "The metric {metric} does not fit the {labels}: {why}.", metric=metric, labels=label_words(encoding), why=why
    )


AUTO_ACCURACY_HINT = N_('Use metrics=["accuracy"]: Keras then picks the accuracy that fits your labels.')


def elementwise_accuracy(shown: str) -> str:
    return say(
        "Metrics: {shown}. keras.metrics.Accuracy compares outputs and labels value by value, which for a "
        "softmax classifier measures nothing useful.",
        shown=shown,
    )


STRING_ACCURACY_HINT = N_('Use the string metrics=["accuracy"] (or keras.metrics.SparseCategoricalAccuracy()).')


def binary_accuracy(shown: str, classes: int) -> str:
    return say("Metrics: {shown}. binary_accuracy is for two classes, not {classes}.", shown=shown, classes=classes)


USE_ACCURACY_HINT = N_('Use metrics=["accuracy"].')


def no_accuracy(shown: str) -> str:
    return say("Metrics: {shown}, but no accuracy.", shown=shown)


ADD_ACCURACY_HINT = N_('Add "accuracy" to the metrics: metrics=["accuracy"].')
CATEGORICAL_ACCURACY_NEEDS_ONE_HOT = N_("categorical_accuracy expects one-hot labels")
SPARSE_ACCURACY_NEEDS_INTEGERS = N_("sparse_categorical_accuracy expects integer labels")


# =================================================================================================
# Training (grader.judges.training)
# =================================================================================================


def history_not_this_model(claimed: float, measured: float) -> str:
    return say(
        "The History reports a final training accuracy of {claimed:.4f}, but the model handed in reaches "
        "{measured:.4f} on training images (measured by the grader): the History does not describe this model.",
        claimed=claimed,
        measured=measured,
    )


SAVED_MODEL_NO_TRAINING = N_("A saved model keeps no record of its training.")
TRAIN_NOT_RECORDED = N_("The run did not record what train() returned.")
NEVER_TRAINED = N_("The model was never trained: the code does not call model.fit().")
# No model.fit() call, and no measurement of the model on training images (quick mode).
NO_FIT_CALL = N_(
    "The code does not call model.fit(). The exercise asks you to train the model with model.compile() "
    "and model.fit(), as the chapter does."
)


def trained_without_fit(accuracy: float) -> str:
    """No model.fit(), yet the model learned: a custom training loop (``accuracy``: the grader's)."""
    return say(
        "The code does not call model.fit(): the model was trained another way (the grader measured "
        "{accuracy:.2f} on training images), for example with a custom training loop. The exercise asks "
        "for model.compile() and model.fit(), as the chapter does.",
        accuracy=accuracy,
    )


def train_trained_without_fit(returned: str, accuracy: float) -> str:
    """train() trained the model without model.fit() (a custom loop) and returned ``returned``."""
    return say(
        "train() returned {returned} and never called model.fit(): the model was trained another way (the "
        "grader measured {accuracy:.2f} on training images), for example with a custom training loop. The "
        "exercise asks for model.fit() in train(), returning its History, as the chapter does.",
        returned=returned,
        accuracy=accuracy,
    )


def train_no_fit_call(returned: str) -> str:
    """train() called no model.fit(), and no measurement says whether the model learned (quick mode)."""
    return say(
        "train() returned {returned} and never called model.fit(). The exercise asks for model.fit() in "
        "train(), returning its History, as the chapter does.",
        returned=returned,
    )


TRAIN_AFTER_COMPILING_HINT = N_("Train the model after compiling it: model.fit(train_images, train_labels, epochs=5).")


def history_not_returned(returned: str) -> str:
    return say(
        "train() called model.fit(), but returned {returned} instead of the History that fit() returns.",
        returned=returned,
    )


def train_never_fitted(returned: str) -> str:
    return say(
        "train() returned {returned} and never called model.fit(), so the model was not trained.", returned=returned
    )


CALL_FIT_IN_TRAIN_HINT = N_(
    "Call model.fit(train_images, train_labels, epochs=5) in train() and return the History it gives."
)


def history_without_loss(who: str) -> str:
    return say("The History {who} returned holds no loss values: model.fit() ran no epochs.", who=who)


CALL_FIT_HINT = N_("Call model.fit(train_images, train_labels, epochs=5) and return its History.")


def ran_but(who: str, epochs_run: int, problem: str) -> str:
    """``problem`` is a clause: "the training loss rose from 2.3 to 9.1"."""
    return say("{who} ran {epochs}, but {problem}.", who=who, epochs=epochs(epochs_run), problem=problem)


RETURN_FITTED_HISTORY_HINT = N_("Return the History that model.fit returns for the model you hand in.")


def fitted_in_a_loop(module: bool, epochs_run: int, calls: int, loss: float, accuracy: float | None) -> str:
    """fit() called once per epoch in a loop: the History returned is only the last call's."""
    facts = {"epochs": epochs_run, "calls": calls, "loss": loss, "accuracy": accuracy}
    if module and accuracy is not None:
        return say(
            "train() fitted {epochs} epochs in {calls} calls of model.fit(); the History returned holds "
            "the last (loss {loss:.4f}, training accuracy {accuracy:.4f}).",
            **facts,
        )
    if module:
        return say(
            "train() fitted {epochs} epochs in {calls} calls of model.fit(); the History returned holds the last (loss {loss:.4f}).",
            **facts,
        )
    if accuracy is not None:
        return say(
            "The code fitted {epochs} epochs in {calls} calls of model.fit(); the last History holds the "
            "last (loss {loss:.4f}, training accuracy {accuracy:.4f}).",
            **facts,
        )
    return say(
        "The code fitted {epochs} epochs in {calls} calls of model.fit(); the last History holds the last (loss {loss:.4f}).",
        **facts,
    )


def single_epoch_run(who: str, loss: float, accuracy: float | None) -> str:
    if accuracy is not None:
        return say(
            "{who} ran 1 epoch (loss {loss:.4f}, training accuracy {accuracy:.4f}): a single epoch cannot show the loss falling.",
            who=who,
            loss=loss,
            accuracy=accuracy,
        )
    return say("{who} ran 1 epoch (loss {loss:.4f}): a single epoch cannot show the loss falling.", who=who, loss=loss)


SEVERAL_EPOCHS_HINT = N_("Train for several epochs: the chapter uses epochs=5.")


def loss_did_not_fall(who: str, epochs_run: int, first: float, last: float) -> str:
    return say(
        "{who} ran {epochs}, but the training loss did not fall ({first:.4f} -> {last:.4f}).",
        who=who,
        epochs=epochs(epochs_run),
        first=first,
        last=last,
    )


def training_passed(module: bool, epochs_run: int, first: float, last: float, accuracy: float | None) -> str:
    if module:
        ran = say("train() returned the History of {epochs}", epochs=epochs(epochs_run))
    else:
        ran = say("model.fit() ran {epochs}", epochs=epochs(epochs_run))
    if accuracy is not None:
        return say(
            "{ran}: the loss fell from {first:.4f} to {last:.4f}, training accuracy {accuracy:.4f}.",
            ran=ran,
            first=first,
            last=last,
            accuracy=accuracy,
        )
    return say("{ran}: the loss fell from {first:.4f} to {last:.4f}.", ran=ran, first=first, last=last)


def loss_ended_at_chance(
    who: str, epochs_run: int, first: float, last: float, classes: int, chance: float, accuracy: float | None
) -> str:
    """The loss fell a little but ended about where guessing evenly among the classes starts."""
    facts = {"who": who, "epochs": epochs(epochs_run), "first": first, "last": last, "classes": classes}
    facts["chance"] = chance
    if accuracy is not None:
        return say(
            "{who} ran {epochs}, but the training loss ended at chance level ({first:.4f} -> {last:.4f}; "
            "guessing evenly among {classes} classes gives ln {classes} = {chance:.4f}), training "
            "accuracy {accuracy:.4f}: the model learned next to nothing.",
            accuracy=accuracy,
            **facts,
        )
    return say(
        "{who} ran {epochs}, but the training loss ended at chance level ({first:.4f} -> {last:.4f}; "
        "guessing evenly among {classes} classes gives ln {classes} = {chance:.4f}): the model learned "
        "next to nothing.",
        **facts,
    )


CHANCE_LEVEL_HINT = N_(
    "Check that the output layer's activation fits the loss (softmax with a loss that expects "
    "probabilities, or from_logits=True for a linear output), and that the learning rate is not tiny."
)

# =================================================================================================
# Test accuracy (grader.judges.accuracy)
# =================================================================================================


def not_tested_refused(refused: str) -> str:
    return say("Not tested: {refused} (see the fair-run check).", refused=refused)


def subclass_not_tested(name: str) -> str:
    """A subclass of keras.Model (``name``: its class) is not loaded: its call() is learner code."""
    return say(
        "Not tested: your model {name} is a subclass of keras.Model. The grader can only test models "
        "built with keras.Sequential or the functional API, because it reloads the saved model without "
        "running code from your submission (your call() method).",
        name=name,
    )


def rebuild_as_sequential(code: str) -> str:
    """``code``: the model's own layers as ``keras.Sequential([...])``."""
    return say("Build the same layers with keras.Sequential instead of a subclass: {code}", code=code)


REBUILD_AS_SEQUENTIAL_HINT = N_(
    "Build the same layers with keras.Sequential instead of a subclass, for example "
    'keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(), keras.layers.Dense(128, activation="relu"), '
    'keras.layers.Dense(10, activation="softmax")]).'
)


def could_not_test(reason: str) -> str:
    return say("The trained model could not be tested: {reason}.", reason=reason)


BUILT_IN_LAYERS_HINT = N_("Build the model from Keras' built-in layers so it can be saved and reloaded.")


def not_tested(reason: str) -> str:
    return say("The trained model was not tested: {reason}.", reason=reason)


RAW_PIXELS_NOTE = N_(
    "(The model was tested on raw 0-255 pixels: it does clearly better on them than on pixels scaled "
    "to [0, 1], so that is what it was trained on.)"
)


def _with_note(message: str, raw_pixels: bool) -> str:
    return say("{message} {note}", message=message, note=_(RAW_PIXELS_NOTE)) if raw_pixels else message


def with_self_scaling_note(message: str, layer: str) -> str:
    """A test-accuracy message of a model that scales its own pixels and was tested on raw ones."""
    note = say("(The model was tested on raw 0-255 pixels, which its {layer} layer scales itself.)", layer=layer)
    return say("{message} {note}", message=message, note=note)


def accuracy_passed(accuracy: float, n_test: int | None, threshold: float, raw_pixels: bool) -> str:
    if n_test:
        message = say(
            "Test accuracy {accuracy:.4f} on the {count:,} test images (full marks from {threshold:g}).",
            accuracy=accuracy,
            count=n_test,
            threshold=threshold,
        )
    else:
        message = say(
            "Test accuracy {accuracy:.4f} (full marks from {threshold:g}).", accuracy=accuracy, threshold=threshold
        )
    return _with_note(message, raw_pixels)


def accuracy_below(
    accuracy: float, n_test: int | None, threshold: float, band: tuple[float, float] | None, raw_pixels: bool
) -> str:
    """Below the bar; ``band`` is (within, fraction) when the accuracy earns partial credit."""
    facts = {"accuracy": accuracy, "count": n_test, "threshold": threshold}
    if band is not None:
        facts |= {"share": band[1], "within": band[0]}
        if n_test:
            message = say(
                "Test accuracy {accuracy:.4f} on the {count:,} test images, below the {threshold:g} needed "
                "for full marks: {share:.0%} of the points for being within {within:g} of it.",
                **facts,
            )
        else:
            message = say(
                "Test accuracy {accuracy:.4f}, below the {threshold:g} needed for full marks: {share:.0%} of "
                "the points for being within {within:g} of it.",
                **facts,
            )
    elif n_test:
        message = say(
            "Test accuracy {accuracy:.4f} on the {count:,} test images, below the {threshold:g} needed for full marks.",
            **facts,
        )
    else:
        message = say("Test accuracy {accuracy:.4f}, below the {threshold:g} needed for full marks.", **facts)
    return _with_note(message, raw_pixels)


def finding_then_hint(finding: str, hint_text: str) -> str:
    """A finding (a clause, capitalised by the caller) and the hint it calls for."""
    return say("{finding}. {hint}", finding=finding, hint=hint_text)


def sentences(first: str, second: str) -> str:
    """Two whole sentences, one after the other (a finding and its hint)."""
    return say("{message} {note}", message=first, note=second)


def overfitting(final: float, accuracy: float) -> str:
    return say(
        "Training accuracy {final:.4f} against test accuracy {accuracy:.4f}: {hint}",
        final=final,
        accuracy=accuracy,
        hint=_(OVERFITTING_HINT),
    )


LOW_ACCURACY_HINT = N_(
    "Check the other checks first; then try more epochs or a somewhat larger hidden layer, and make "
    "sure the images are scaled to [0, 1]."
)
# For a model that scales its own pixels: nothing to say about scaling.
LOW_ACCURACY_SELF_SCALING_HINT = N_(
    "Check the other checks first; then try more epochs or a somewhat larger hidden layer."
)


def fix_output_and_loss_first(hint_text: str) -> str:
    """The output layer or the loss failed its check: the likeliest reason for a poor result."""
    return say(
        "The output layer and the loss do not fit the task (see their checks), so the model cannot "
        "learn properly; fix them first: {hint}",
        hint=hint_text,
    )


# =================================================================================================
# A fair run (grader.judges.integrity)
# =================================================================================================


def save_overridden(where: str) -> str:
    return say(
        "the model's class replaces Keras' save() ({where}), so the file it would save need not be the model that was trained",
        where=where,
    )


FIT_TRAINED_ANOTHER_MODEL = N_("the model graded is not the one model.fit trained: model.fit trained another model")
WEIGHTS_REPLACED_AS_FIT_ENDED = N_(
    "the weights of the model graded were set as model.fit ended (in a callback's on_train_end): "
    "none of its epochs ended with them, so they were not learned by that training"
)
WEIGHTS_CHANGED = N_(
    "the weights of the model graded are not the ones model.fit left: they were changed after training"
)


def history_shortfall(measured: float, last: float, reachable: float) -> str:
    return say(
        "it reaches {measured:.4f} on training images (measured by the grader), far above what its training "
        "could have reached: its History's training accuracy ends at {last:.4f}, and even a model still "
        "learning at its last epoch's pace would be near {reachable:.4f}, so its weights were not learned "
        "by that model.fit",
        measured=measured,
        last=last,
        reachable=reachable,
    )


def not_reproduced(test: float, epochs: object, batch_size: object, reproduced: float, margin: float) -> str:
    return say(
        "The model scores {test:.4f} on the test images, but the same architecture, compiled the same way "
        "and trained again by the grader on the training images ({epochs} epochs, batch size {batch_size}), "
        "reaches {reproduced:.4f}: more than {margin:g} better than its own recipe can explain, so its "
        "weights were not learned from the training images alone. Its test accuracy does not count.",
        test=test,
        epochs=epochs,
        batch_size=batch_size,
        reproduced=reproduced,
        margin=margin,
    )


NO_RECORD_OF_CODE = N_("The run left no record of your code: it ended before the grader could see anything.")
CHECK_IT_STARTS_HINT = N_("Run your file with `python` to check that it starts, and grade again.")


def model_refused(refused: str) -> str:
    return say("The grader did not test the saved model: {refused}.", refused=refused)


def refused_hint(image: str) -> str:
    """``image``: one image of the exercise's dataset, "28x28" or "32x32x3"."""
    return say(
        "Hand in a model with one {image} image input and one output of one score per class, built from "
        "Keras' built-in layers and within the exercise's size.",
        image=image,
    )


def memorised(test: float, train: float, n_train: int | None) -> str:
    return say(
        "The model does clearly better on the test images ({test:.4f}) than on the training images "
        "({train:.4f}, measured by the grader on {n_train:,} of them): a model trained on the training "
        "images does not, so it was trained on the test split. Its test accuracy does not count.",
        test=test,
        train=train,
        n_train=n_train or 0,
    )


def history_series(key: str, first: float, last: float, epochs: int) -> str:
    return say_n(
        "{key} {first:.4f} -> {last:.4f} over {count} epoch",
        "{key} {first:.4f} -> {last:.4f} over {count} epochs",
        epochs,
        key=key,
        first=first,
        last=last,
    )


def history_edited(claimed: str, logged: str) -> str:
    return say(
        "The History your code returned shows figures that no model.fit logged ({claimed}); model.fit "
        "logged {logged}. The grader judges training on what fit logged.",
        claimed=claimed,
        logged=logged,
    )


HISTORY_EDITED_HINT = N_(
    "Return the History that model.fit returns, unchanged: the grader reads each epoch's figures as training logs them."
)


def fit_changed_nothing(accuracy: float) -> str:
    return say(
        "model.fit changed none of the model's weights, or moved them by less than a thousandth of "
        "their size (frozen layers, or a learning rate near zero), yet the model scores {accuracy:.4f} "
        "on training images: its weights were set some other way than by training.",
        accuracy=accuracy,
    )


NOT_COUNTED_NOT_TRAINED = N_(
    "Not counted: model.fit did not change the model's weights, so this accuracy was not reached "
    "by training (see the fair-run check)."
)
FIT_CHANGED_NOTHING_HINT = N_(
    "Train the model with model.fit: leave its layers trainable, use a usual learning rate (Adam's "
    "default is 0.001) and do not set its weights by hand."
)


def optimizer_not_the_trained_one(saved: str, used: str) -> str:
    return say(
        "The saved model's compile settings name the optimizer {saved}, but model.fit trained it with {used}.",
        saved=saved,
        used=used,
    )


def learning_rate_not_the_trained_one(saved: float, used: float) -> str:
    return say(
        "The saved model's compile settings give the learning rate {saved:g}, but model.fit trained with {used:g}.",
        saved=saved,
        used=used,
    )


def metrics_not_logged(claimed: str, logged: str) -> str:
    return say(
        "The saved model's compile settings list the metrics {claimed}, but model.fit computed none of "
        "them (its epochs logged {logged}).",
        claimed=claimed,
        logged=logged,
    )


COMPILE_SETTINGS_HINT = N_(
    "Compile the model once, with the settings you train with, and do not change them afterwards: "
    "the grader checks the settings model.fit used."
)


def not_the_trained_model(problem: str) -> str:
    return say("The model graded may not be the model your code trained: {problem}.", problem=problem)


TRAINED_ON_TEST_SPLIT = N_(
    "Your code trained the model on the test split's images, which it found on disk: the test "
    "accuracy of such a model does not count."
)


def tampering(places: str) -> str:
    return say("Your code changes how Keras measures a model ({places}).", places=places)


def fair_run(isolation: str) -> str:
    return say("Your code ran within the grader's limits ({isolation} isolation) and fairly.", isolation=isolation)


NOT_COUNTED_TEST_SPLIT = N_(
    "Not counted: the model was trained on the test split's images, so its accuracy on them says "
    "nothing about new images."
)


def not_counted_memorised(test: float, train: float) -> str:
    return say(
        "Not counted: test accuracy {test:.4f}, clearly above the model's accuracy on training images "
        "({train:.4f}): it was trained on the test split (see the fair-run check).",
        test=test,
        train=train,
    )


def not_counted_weights(problem: str) -> str:
    return say("Not counted: {problem} (see the fair-run check).", problem=problem)


NOT_COUNTED_REPRODUCTION = N_(
    "Not counted: the grader's own training of this architecture and recipe reaches clearly less "
    "(see the fair-run check)."
)


# =================================================================================================
# Scoring (grader.scoring): a judge that broke is the grader's fault, said so
# =================================================================================================


def internal_error(check: str, problem: str) -> str:
    return say("internal grader error in check {check}: {problem}", check=check, problem=problem)


def no_such_judge(check: str, judge: str) -> str:
    return say("internal grader error in check {check}: no judge named '{judge}'.", check=check, judge=judge)


def judge_returned(kind: str) -> str:
    return say("the judge returned {kind}, not a Verdict", kind=kind)


def judge_returned_status(status: str) -> str:
    return say("the judge returned status {status}", status=status)


def judge_returned_fraction(fraction: str, outside: bool) -> str:
    if outside:
        return say("the judge returned fraction {fraction}, outside 0..1", fraction=fraction)
    return say("the judge returned fraction {fraction}", fraction=fraction)


# =================================================================================================
# Quiz feedback (grader.quiz): the sentences around the author's explanations
# =================================================================================================


def quiz_not_answered(item: str) -> str:
    return say("Not answered: write your answer after `{item} =` in the answers file.", item=item)


def quiz_correct(explanation: str) -> str:
    if not explanation:
        return say("Correct.")
    return say("Correct. {explanation}", explanation=explanation)


def quiz_chose(letter: str, choice: str, why: str) -> str:
    return say('You chose {letter}: "{choice}" {why}', letter=letter, choice=choice, why=why)


def quiz_not_true(letter: str, why: str) -> str:
    return say("{letter}) is not true: {why}", letter=letter, why=why)


def quiz_left_out(why: str) -> str:
    return say("You left out a true statement: {why}", why=why)


def quiz_partly(score: str, points: str, parts: list[str], partly: bool) -> str:
    """Several letters, not all right: the points earned and one sentence per letter."""
    explained = " ".join(parts)
    if partly:
        return say("Partly right ({score} of {points} points). {parts}", score=score, points=points, parts=explained)
    return say("Not right ({score} of {points} points). {parts}", score=score, points=points, parts=explained)


def quiz_answered(number: str, why: str) -> str:
    return say("You answered {number}. {why}", number=number, why=why)


QUIZ_TEXT_EMPTY = N_("Optional free-text answer left empty: nothing to review, no points lost.")


def quiz_text_reviewed(found: list[str], missing: list[str], total: int) -> str:
    """A free-text answer: which rubric ideas it mentions (advisory), flagged for a person."""
    facts = {"found": len(found), "total": total, "ideas": listing(found), "missing": listing(missing)}
    if found and missing:
        return say(
            "Advisory, not scored: your answer mentions {found} of {total} key ideas ({ideas}); not found: "
            "{missing}. Answer flagged for an instructor to read.",
            **facts,
        )
    if found:
        return say(
            "Advisory, not scored: your answer mentions {found} of {total} key ideas ({ideas}). Answer "
            "flagged for an instructor to read.",
            **facts,
        )
    if missing:
        return say(
            "Advisory, not scored: your answer mentions {found} of {total} key ideas; not found: {missing}. "
            "Answer flagged for an instructor to read.",
            **facts,
        )
    return say(
        "Advisory, not scored: your answer mentions {found} of {total} key ideas. Answer flagged for an instructor to read.",
        **facts,
    )


# --- the learner's answers file (grader.quiz.read_answers) ----------------------------------------

QUIZ_HOW_TO_WRITE = N_(
    'Write one answer per line as name = value: a letter in double quotes (name = "b"), '
    'several letters in brackets (name = ["a", "c"]), a number bare or quoted '
    '(name = 50240 or name = "50,240"), free text in quotes.'
)


def answers_not_found(path: str, exercise: str) -> str:
    return say("Answers file {path} not found. Create it with `grade init {exercise}`.", path=path, exercise=exercise)


def answers_not_utf8(path: str) -> str:
    return say("{path} is not UTF-8 text; save it as UTF-8 and grade again.", path=path)


def answers_unreadable(path: str, why: str) -> str:
    return say("Cannot read answers file {path}: {why}.", path=path, why=why)


def answers_not_toml(path: str, reason: str) -> str:
    """tomllib could not say where: what it said, and how answers are written."""
    return say("{path} is not valid TOML ({reason}). {how}", path=path, reason=reason, how=_(QUIZ_HOW_TO_WRITE))


def answers_bad_line(path: str, number: int, reason: str, line: str, key: str | None = None, value: str = "") -> str:
    """The line tomllib stopped at, what it said, and the fix: the quoted value when the slip is a
    value without quotes (``key``/``value``), else how answers are written."""
    if line:
        where = say(
            "{path}, line {number}, is not valid TOML ({reason}): `{line}`",
            path=path,
            number=number,
            reason=reason,
            line=line,
        )
    else:
        where = say("{path}, line {number}, is not valid TOML ({reason})", path=path, number=number, reason=reason)
    if key is not None:
        return say('{where}. Put the value in double quotes: {key} = "{value}"', where=where, key=key, value=value)
    return say("{where}. {how}", where=where, how=_(QUIZ_HOW_TO_WRITE))


def answers_unknown_items(path: str, unknown: list[str], known: list[str], belongs_to: str | None) -> str:
    """Answers to items the quiz does not have: the quiz they belong to, or the quiz's own items."""
    message = say("{path} answers item(s) this quiz does not have: {items}.", path=path, items=", ".join(unknown))
    if belongs_to is not None:
        return say(
            "{message} They belong to {other}: grade this file with `grade {other}`.", message=message, other=belongs_to
        )
    return say("{message} Check the spelling; this quiz's items are: {items}.", message=message, items=", ".join(known))


def answer_not_a_list(where: str, item: str, letter: str) -> str:
    return say(
        '{where} takes one letter, not a list: write {item} = "{letter}" (choose one).',
        where=where,
        item=item,
        letter=letter,
    )


def answer_one_letter(where: str, item: str, value: str) -> str:
    return say(
        '{where} takes one letter in quotes, e.g. {item} = "a"; got {value}.', where=where, item=item, value=value
    )


def answer_letters(where: str, item: str, value: str) -> str:
    return say(
        '{where} takes a list of letters, e.g. {item} = ["a", "c"]; got {value}.', where=where, item=item, value=value
    )


def answer_text(where: str, item: str) -> str:
    return say(
        '{where} takes text in quotes, e.g. {item} = "..." (triple quotes for several lines).', where=where, item=item
    )


def answer_not_a_choice(where: str, value: str, allowed: str) -> str:
    return say(
        "{where}: {value} is not a choice; answer with one of the letters {allowed}.",
        where=where,
        value=value,
        allowed=allowed,
    )


def answer_number(where: str, item: str, value: str) -> str:
    return say("{where} takes a number, e.g. {item} = 42; got {value}.", where=where, item=item, value=value)


def answer_number_text(where: str, item: str, value: str) -> str:
    return say(
        '{where} takes a number, e.g. {item} = 42 or "1,234" (a dot for decimals: 0.5); {value} is not one.',
        where=where,
        item=item,
        value=value,
    )


def answer_finite_number(where: str, value: str) -> str:
    return say("{where} takes a finite number; got {value}.", where=where, value=value)


# --- the answers stub `grade init` writes (grader.quiz.render_answers_stub) -----------------------

QUIZ_HOW_TO_ANSWER = {
    "single": N_("choose ONE letter"),
    "multiple": N_("choose ALL letters that are true"),
    "numeric": N_("a number"),
    "text": N_("free text, optional: no points, an instructor reads it"),
}

QUIZ_ANSWER_FORMS = (
    (N_("one letter"), 'name = "b"'),
    (N_("several letters"), 'name = ["a", "c"]'),
    (N_("a number"), N_('name = 50240      (or "50,240")')),
    (N_("free text"), N_('name = """Your explanation, over as many lines as you like."""')),
)
"""The ways to write an answer, as the stub's table shows them (label, example line)."""


def stub_grade_with(exercise: str) -> str:
    return say("Answer each question below, then grade your answers with:  grade {exercise}", exercise=exercise)


def stub_questions(scored: int, total: str, pass_mark: str, optional: int) -> str:
    """``3 scored questions worth 10 points (you pass with 6), and 1 optional free-text question.``"""
    return say(
        "{scored} worth {total} points (you pass with {pass_mark}), and {optional}.",
        scored=say_n("{count} scored question", "{count} scored questions", scored),
        total=total,
        pass_mark=pass_mark,
        optional=say_n("{count} optional free-text question", "{count} optional free-text questions", optional),
    )


def stub_how_to_answer() -> str:
    return _("How to write an answer (keep the name on the left, fill in the right side):")


def stub_empty_scores_zero() -> str:
    return _('An answer left as "" or [] scores 0. Upper or lower case letters both work.')


def stub_how(item_type: str, points: str | None) -> str:
    """The heading's bracket: ``choose ONE letter; 2 points``."""
    how = _(QUIZ_HOW_TO_ANSWER[item_type])
    return say("{how}; {points} points", how=how, points=points) if points is not None else how


def stub_number_alone() -> str:
    return _("Write the number alone, without units.")


def stub_own_words() -> str:
    return _("Write in your own words. The grader lists the key ideas it finds; an instructor reads it.")
