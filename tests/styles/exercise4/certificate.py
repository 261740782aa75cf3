# Exercise 4 in the certificate exam's style: solution_model() loads MNIST itself (here with
# tensorflow_datasets), builds, compiles and trains the model, and returns it.
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds


def solution_model():
    images, labels = tfds.as_numpy(tfds.load("mnist", split="train", batch_size=-1, as_supervised=True))
    images = images.reshape(-1, 28, 28).astype("float32") / 255.0
    labels = labels.astype(np.int64)

    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(128, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(images, labels, epochs=5, verbose=2)
    return model


if __name__ == "__main__":
    model = solution_model()
    model.save("mymodel.h5")
