"""Known-bad variant: categorical cross-entropy with integer labels (0-9).

categorical_crossentropy expects one-hot labels, so model.fit raises at its first batch: the
loss check fails, and training and the test accuracy cannot be checked. Fails in seconds.
"""

import tensorflow as tf


def build_model():
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=5, verbose=2)
