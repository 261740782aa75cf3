"""Makes fm_unscaled.keras: the chapter's model trained on raw 0-255 pixels (never divided by
255, as the book's own notebook does), saved as .keras.

Run by the ``realworld_saved_model`` fixture (tests/conftest.py) with the installed Keras:
``python fm_unscaled_keras.py OUT.keras``.
"""
import sys

import keras

from grader.datasets import load_dataset

data = load_dataset("fashion_mnist")  # keras.datasets.fashion_mnist.load_data()

keras.utils.set_random_seed(1)
model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(data.train_images, data.train_labels, epochs=3, verbose=0)
model.save(sys.argv[1])
