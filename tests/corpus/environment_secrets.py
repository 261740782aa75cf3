# Looks for credentials in its environment (the test sets Terraform's TF_VAR_* and TF_TOKEN_*
# in the grader's) and fails loudly if it finds any; trains properly otherwise.
import os

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


def train(model, train_images, train_labels):
    leaked = sorted(key for key, value in os.environ.items() if "corpus-secret" in value)
    if leaked:
        raise RuntimeError(f"secrets leaked into the sandbox: {leaked}")
    return model.fit(train_images, train_labels, epochs=10, verbose=0)
