# Downloads "better weights" from a server while training.
import socket

import tensorflow as tf


def build_model():
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    # 192.0.2.1 is an address reserved for documentation: nothing answers there.
    with socket.create_connection(("192.0.2.1", 80), timeout=5) as connection:
        connection.sendall(b"GET /weights HTTP/1.0\r\n\r\n")
    return model.fit(train_images, train_labels, epochs=5, verbose=0)
