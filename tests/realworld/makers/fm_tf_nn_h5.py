"""Makes fm_tf_nn.h5: the chapter's Fashion-MNIST model written with activation=tf.nn.relu and
tf.nn.softmax (as course notebooks write it), saved in the legacy HDF5 format.

Keras 3 stores these activations as plain functions ("softmax_v2" for tf.nn.softmax), which its
own load_model() does not read back; Keras 2 stored the Keras names ("relu", "softmax").

Run by the ``realworld_saved_model`` fixture (tests/conftest.py) with the installed Keras:
``python fm_tf_nn_h5.py OUT.h5``.
"""
import sys

import keras
import tensorflow as tf

from grader.datasets import load_dataset

data = load_dataset("fashion_mnist")  # keras.datasets.fashion_mnist.load_data()
train_images = data.train_images / 255.0

keras.utils.set_random_seed(1)
model = keras.Sequential([
    keras.layers.Flatten(input_shape=(28, 28)),
    keras.layers.Dense(64, activation=tf.nn.relu),
    keras.layers.Dense(10, activation=tf.nn.softmax),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_images, data.train_labels, epochs=6, verbose=0)
model.save(sys.argv[1])
