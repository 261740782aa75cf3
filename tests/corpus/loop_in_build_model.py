# An endless loop in build_model(): the loop condition never changes.
import tensorflow as tf


def build_model():
    layers = [tf.keras.Input(shape=(28, 28)), tf.keras.layers.Flatten()]
    units = 64
    while units > 0:
        units += 1  # meant: units -= 32
    layers.append(tf.keras.layers.Dense(10, activation="softmax"))
    model = tf.keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=5, verbose=0)
