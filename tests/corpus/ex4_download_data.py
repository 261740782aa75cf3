# exercise4: load_data() downloads MNIST itself instead of using the loader the chapter shows.
import gzip
import urllib.request

import numpy as np
import tensorflow as tf

URL = "http://192.0.2.1/mnist/"  # an address reserved for documentation: nothing answers there


def fetch(name, offset):
    with urllib.request.urlopen(URL + name, timeout=5) as response:
        return np.frombuffer(gzip.decompress(response.read()), np.uint8, offset=offset)


def load_data():
    train_images = fetch("train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28) / 255.0
    train_labels = fetch("train-labels-idx1-ubyte.gz", 8)
    test_images = fetch("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28) / 255.0
    test_labels = fetch("t10k-labels-idx1-ubyte.gz", 8)
    return (train_images, train_labels), (test_images, test_labels)


def build_model():
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=30, verbose=0)
