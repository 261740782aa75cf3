"""Makes ex4_keras2_mlp.h5: the Keras 2 era's MNIST multilayer perceptron example, saved as HDF5.

Run by the ``realworld_saved_model`` fixture (tests/conftest.py) with the installed Keras:
``python ex4_keras2_mlp_h5.py OUT.h5``. The data comes from the grader's verified copy of the
training split, where the learner's code called ``mnist.load_data()``.
"""
import sys

import keras
from keras.layers import Activation, Dense, Dropout
from keras.models import Sequential
from keras.optimizers import RMSprop
from keras.utils import to_categorical

from grader.datasets import load_dataset

batch_size = 128
num_classes = 10
epochs = 2

data = load_dataset("mnist")  # (x_train, y_train), _ = mnist.load_data()
x_train = data.train_images.reshape(60000, 784).astype("float32") / 255
y_train = to_categorical(data.train_labels, num_classes)

keras.utils.set_random_seed(1)
model = Sequential()
model.add(Dense(512, input_shape=(784,)))
model.add(Activation("relu"))
model.add(Dropout(0.2))
model.add(Dense(num_classes))
model.add(Activation("softmax"))
model.compile(loss="categorical_crossentropy", optimizer=RMSprop(), metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
model.save(sys.argv[1])
