# A crash in native code (as a broken C extension would cause): a segmentation fault.
import faulthandler

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
    model.fit(train_images, train_labels, epochs=1, verbose=0)
    faulthandler._sigsegv()  # CPython's own way to raise a real SIGSEGV, for tests
