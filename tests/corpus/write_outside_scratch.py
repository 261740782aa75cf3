# Leaves a file wherever it can reach: the grader's package, its cache, the served data, the
# submission's folder (from the grader's command line), home, the folder above its own. With
# bubblewrap every write must fail or land in the run's own scratch folder.
import glob
import importlib.util
import json
import sys
from pathlib import Path

import tensorflow as tf

MARKER = "corpus-escape-marker.txt"


def build_model():
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def targets():
    places = [Path.home(), Path("/tmp"), Path.home() / ".cache" / "exercise-grader", Path.cwd().parent]
    spec = importlib.util.find_spec("grader")
    if spec is not None and spec.origin:
        places.append(Path(spec.origin).parent)
    try:
        plan = json.loads(Path(sys.argv[1]).read_text())
        places += [Path(p) for p in plan.get("served", {}).values()]
        places += [Path(p).parent for p in plan.get("served", {}).values()]
    except (OSError, ValueError, IndexError):
        pass
    # The grader started us: its command line names the submission and its folder.
    for cmdline in glob.glob("/proc/*/cmdline"):
        try:
            args = Path(cmdline).read_bytes().split(b"\0")
        except OSError:
            continue
        places += [Path(a.decode(errors="replace")).parent for a in args if a.endswith(b".py") and b"/" in a]
    return places


def train(model, train_images, train_labels):
    written, refused = [], []
    for place in targets():
        try:
            (place / MARKER).write_text("escaped the sandbox\n")
            written.append(str(place))
        except OSError as exc:
            refused.append(f"{place}: {exc.strerror}")
    print("written:", written)
    print("refused:", refused)
    return model.fit(train_images, train_labels, epochs=30, verbose=0)
