"""Makes fm_chapter.h5: the chapter's Fashion-MNIST model, saved in the legacy HDF5 format
(as the certificate exam's `model.save("mymodel.h5")` did).

Run by the ``realworld_saved_model`` fixture (tests/conftest.py) with the installed Keras:
``python fm_chapter_h5.py OUT.h5``.
"""
import sys

import keras

from grader.datasets import load_dataset

data = load_dataset("fashion_mnist")  # keras.datasets.fashion_mnist.load_data()
train_images = data.train_images / 255.0

keras.utils.set_random_seed(1)
model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(64, activation="relu"),
    keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_images, data.train_labels, epochs=6, verbose=0)
model.save(sys.argv[1])
