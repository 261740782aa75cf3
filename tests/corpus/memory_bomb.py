# train() keeps every batch it ever made: memory grows by 1 GB a step until the machine is full.
import numpy as np
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
    hoard = []
    while True:
        hoard.append(np.ones(2**27))  # 2**27 float64 = 1 GiB, every page written
