"""Known-bad variant: activation="softMax" on the output layer.

Keras 3 activation names are case-sensitive, so build_model() raises ValueError before any
model exists: every check that needs the model fails with that one cause. Fails in seconds.
"""

import tensorflow as tf


def build_model():
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(10, activation="softMax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=5, verbose=2)
