"""A wider Fashion-MNIST classifier with Dropout (reference solution).

Flatten -> Dense(256, relu) -> Dropout(0.2) -> Dense(10, softmax), trained with Adam on sparse
categorical cross-entropy for 10 epochs.
"""

import tensorflow as tf


def build_model():
    """The wider network with Dropout, compiled."""
    model = tf.keras.Sequential(
        [
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(256, activation="relu"),
            # Dropout silences a random fifth of the hidden units at each training step, so the
            # wider layer cannot simply memorise the training images.
            tf.keras.layers.Dropout(0.2),
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
    """Fit for 10 epochs and return the History."""
    return model.fit(train_images, train_labels, epochs=10, verbose=2)
