"""Makes ex4_functional.keras: a functional-API MNIST model with loss and metric objects.

Run by the ``realworld_saved_model`` fixture (tests/conftest.py) with the installed Keras:
``python ex4_functional_keras.py OUT.keras``.
"""
import sys

import keras
from keras import layers

from grader.datasets import load_dataset

data = load_dataset("mnist")  # keras.datasets.mnist.load_data()
x_train = data.train_images.astype("float32") / 255.0

keras.utils.set_random_seed(1)
inputs = keras.Input(shape=(28, 28), name="digits")
x = layers.Flatten()(inputs)
x = layers.Dense(128, activation="relu")(x)
x = layers.Dropout(0.1)(x)
outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
model.fit(x_train, data.train_labels, batch_size=64, epochs=2, verbose=0)
model.save(sys.argv[1])
