"""Known-bad: Dropout is there, but the hidden layer has 16 units instead of 256.

Too few units to reach the bar: the architecture check and the test accuracy fail.
"""

import tensorflow as tf


def build_model():
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(16, activation="relu"),
            tf.keras.layers.Dropout(0.2),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=10, verbose=2)
