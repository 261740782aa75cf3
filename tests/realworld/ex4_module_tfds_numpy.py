"""Exercise 4 with TensorFlow Datasets: the whole training split as NumPy arrays at once."""
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds


def load_data():
    (train_images, train_labels), (test_images, test_labels) = tfds.as_numpy(
        tfds.load("mnist", split=["train", "test"], batch_size=-1, as_supervised=True)
    )
    train_images = train_images.astype(np.float32) / 255.0     # (60000, 28, 28, 1)
    test_images = test_images.astype(np.float32) / 255.0
    return (train_images, train_labels), (test_images, test_labels)


def build_model():
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28, 1)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=3, batch_size=64)


if __name__ == "__main__":
    (x, y), (x_test, y_test) = load_data()
    m = build_model()
    train(m, x, y)
    print(m.evaluate(x_test, y_test))
