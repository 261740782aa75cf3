"""Exercise 4: a classifier for the MNIST handwritten digits.

Write the three functions below, then grade your work with:

    grade exercise4

The grader imports this file, calls load_data(), build_model(), then train() with the training
images and labels your load_data() returned, and tests the trained model on the official MNIST
test images. README.md beside this file describes the task, the limits and the scoring.
"""

import tensorflow as tf


def load_data():
    """Load MNIST and return it ready for training.

    Use tf.keras.datasets.mnist.load_data() or tensorflow_datasets (tfds.load("mnist", ...)).
    Scale the pixels from 0-255 to [0, 1].

    Returns:
        ((train_images, train_labels), (test_images, test_labels)) as NumPy arrays: images of
        shape (N, 28, 28) (or (N, 28, 28, 1)) as floats in [0, 1], labels as integers 0-9 of
        shape (N,).
    """
    # TODO: load the two splits, scale the images to [0, 1] and return them.
    raise NotImplementedError("load_data() is not written yet: load MNIST and scale the images")


def build_model():
    """Build and compile a classifier for 28x28 digit images, and return it.

    Any sensible architecture will do: at least one hidden layer with a nonlinear activation,
    and an output layer of 10 units with the softmax activation, within the parameter budget
    given in README.md. Compile it with an optimizer, a cross-entropy loss that fits your labels
    and the accuracy metric.

    Returns:
        The compiled keras.Model.
    """
    # TODO: build the model, compile it and return it.
    raise NotImplementedError("build_model() is not written yet: build, compile and return the model")


def train(model, train_images, train_labels):
    """Train ``model`` and return the History that ``model.fit`` gives.

    Args:
        model: the compiled model that build_model() returned.
        train_images: the training images your load_data() returned.
        train_labels: the training labels your load_data() returned.

    Returns:
        The keras.callbacks.History returned by model.fit(...).
    """
    # TODO: fit the model (enough epochs to reach 0.95 test accuracy) and return the History.
    raise NotImplementedError("train() is not written yet: fit the model and return its History")
