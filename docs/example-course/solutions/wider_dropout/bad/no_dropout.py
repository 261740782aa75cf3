"""Known-bad: the wider network without its Dropout layer.

It still trains well (the accuracy bar is met), so only the architecture check may fail: the
grader must see the missing layer and blame nothing else.
"""

import tensorflow as tf


def build_model():
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(256, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=10, verbose=2)
