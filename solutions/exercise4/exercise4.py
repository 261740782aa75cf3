"""Exercise 4: a classifier for the MNIST handwritten digits (reference solution).

The chapter's recipe with a wider hidden layer: Flatten -> Dense(128, relu) -> Dense(10, softmax),
Adam, sparse categorical cross-entropy, 5 epochs.
"""

import tensorflow as tf


def load_data():
    """MNIST from Keras, with the pixels scaled from 0-255 to [0, 1]."""
    (train_images, train_labels), (test_images, test_labels) = tf.keras.datasets.mnist.load_data()
    # float32 halves the memory of NumPy's default float64 and is what Keras computes in.
    train_images = train_images.astype("float32") / 255.0
    test_images = test_images.astype("float32") / 255.0
    return (train_images, train_labels), (test_images, test_labels)


def build_model():
    """A small multilayer perceptron, compiled."""
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def train(model, train_images, train_labels):
    """Fit for 5 epochs and return the History."""
    # verbose=2: one line per epoch, rather than a progress bar redrawn many times.
    return model.fit(train_images, train_labels, epochs=5, verbose=2)
