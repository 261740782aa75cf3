"""Known-bad variant: train() fits the model but does not return the History.

The model trains fully and reaches the accuracy threshold, so only the training check fails:
this variant proves the grader blames nothing else. It trains on the full data (about as long
as the reference solution).
"""

import tensorflow as tf


def load_data():
    (train_images, train_labels), (test_images, test_labels) = tf.keras.datasets.mnist.load_data()
    return (train_images.astype("float32") / 255.0, train_labels), (test_images.astype("float32") / 255.0, test_labels)


def build_model():
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    model.fit(train_images, train_labels, epochs=5, verbose=2)
