# Saves a "checkpoint" of 600 MB of zeros next to the model.
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
    history = model.fit(train_images, train_labels, epochs=5, verbose=0)
    with open("checkpoint.bin", "wb") as checkpoint:
        for _ in range(600):
            checkpoint.write(bytes(1024 * 1024))
    return history
