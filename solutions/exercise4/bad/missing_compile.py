"""Known-bad variant: build_model() returns the model without compiling it.

model.fit then raises "You must call compile() before using the model", so the compile checks
fail and training and the test accuracy cannot be checked. Fails in seconds.
"""

import tensorflow as tf


def load_data():
    (train_images, train_labels), (test_images, test_labels) = tf.keras.datasets.mnist.load_data()
    return (train_images.astype("float32") / 255.0, train_labels), (test_images.astype("float32") / 255.0, test_labels)


def build_model():
    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=5, verbose=2)
