# Saved in Latin-1 by an old editor: the accents below are not UTF-8, which Python requires.
# Modèle du chapitre : Flatten, Dense(64, relu), Dense(10, softmax).
import tensorflow as tf


def build_model():
    """Réseau de neurones entièrement connecté."""
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=30, verbose=0)
