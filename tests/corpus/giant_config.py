# Replaces the model file the grader saved (by patching the grader's in-sandbox recorder) with
# one whose config asks for Dense(1_440_000): loading it would allocate over 4 GB before a single
# weight is read. The grader reads the config as plain JSON first and refuses the file.
import json
import sys
import zipfile

import tensorflow as tf


def build_model():
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _giant(config):
    layers = config["config"]["layers"]
    dense = [layer for layer in layers if layer["class_name"] == "Dense"]
    dense[0]["config"]["units"] = 1_440_000
    dense[1]["build_config"] = {"input_shape": [None, 1_440_000]}
    return config


def _replace_saved_model(rewrite):
    session_class = sys.modules["__main__"].ChildSession
    original = session_class.save_model

    def save_model(self, model):
        original(self, model)
        path = self.plan.model_path
        with zipfile.ZipFile(path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        members["config.json"] = json.dumps(rewrite(json.loads(members["config.json"]))).encode()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in members.items():
                archive.writestr(name, data)

    session_class.save_model = save_model


def train(model, train_images, train_labels):
    _replace_saved_model(_giant)
    return model.fit(train_images, train_labels, epochs=5, verbose=0)
