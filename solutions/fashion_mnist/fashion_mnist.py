"""Fashion-MNIST classifier: the chapter's case study (reference solution).

Flatten -> Dense(64, relu) -> Dense(10, softmax), trained with Adam on sparse categorical
cross-entropy for 5 epochs, as the chapter does.
"""

import tensorflow as tf


def build_model():
    """The chapter's model, compiled."""
    model = tf.keras.Sequential(
        [
            # Keras 3 prefers an Input layer to `input_shape=` on the first layer.
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(64, activation="relu"),
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
