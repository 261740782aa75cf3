# Stops itself (SIGSTOP), as a debugger breakpoint would: nothing will ever continue it.
import os
import signal

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
    os.kill(os.getpid(), signal.SIGSTOP)
    return model.fit(train_images, train_labels, epochs=30, verbose=0)
