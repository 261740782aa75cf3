"""Hangs: train() never returns, so the sandbox's time limit stops it. It sleeps rather than
spins, so the batch's other job has the cores meanwhile (busy hangs: tests/corpus/loop_in_train.py)."""

import time

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
    while True:
        time.sleep(1)
