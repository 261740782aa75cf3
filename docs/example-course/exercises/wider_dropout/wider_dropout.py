"""Fashion-MNIST: a wider network with Dropout.

Write the two functions below, then grade your work with:

    grade wider_dropout --course COURSE_FOLDER

The grader imports this file, calls build_model(), passes the model to train() together with
the 60,000 Fashion-MNIST training images, and then tests the trained model on the 10,000 test
images, which it keeps to itself. README.md beside this file describes the task and the scoring.
"""

import tensorflow as tf


def build_model():
    """Build and compile the wider classifier, and return it.

    The model:

    - takes one 28x28 grayscale image and flattens it into 784 values;
    - has one hidden Dense layer of 256 units with the ReLU activation;
    - then a Dropout layer with a rate between 0.2 and 0.5;
    - ends with a Dense layer of 10 units (one per class) with the softmax activation.

    Compile it with the Adam optimizer, the sparse categorical cross-entropy loss (the labels are
    class numbers 0-9) and the accuracy metric.

    Returns:
        The compiled keras.Model.
    """
    # TODO: build the model, e.g. with tf.keras.Sequential([...]), compile it and return it.
    raise NotImplementedError("build_model() is not written yet: build, compile and return the model")


def train(model, train_images, train_labels):
    """Train ``model`` on the training images and return the History that ``model.fit`` gives.

    Args:
        model: the compiled model that build_model() returned.
        train_images: float32 array of shape (60000, 28, 28), pixels already scaled to [0, 1].
        train_labels: integer array of shape (60000,), class numbers 0-9.

    Returns:
        The keras.callbacks.History returned by model.fit(...).
    """
    # TODO: fit the model (10 epochs reach the bar) and return the History.
    raise NotImplementedError("train() is not written yet: fit the model and return its History")
