# ======================================================================
# Question: build and train a classifier for the MNIST dataset.
# The model should reach 95% accuracy or higher on the test set.
# Desired output: a trained model returned by solution_model().
# ======================================================================
import tensorflow as tf


def solution_model():
    mnist = tf.keras.datasets.mnist
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(256, activation=tf.nn.relu),
        tf.keras.layers.Dense(10, activation=tf.nn.softmax)
    ])
    model.compile(optimizer='adam',
                  loss='sparse_categorical_crossentropy',
                  metrics=['acc'])
    model.fit(x_train, y_train, epochs=2, validation_data=(x_test, y_test))
    return model


# Note that you'll need to save your model as a .h5 like this.
# When you press the Submit and Test button, your saved .h5 model will
# be sent to the testing infrastructure for scoring.
if __name__ == '__main__':
    model = solution_model()
    model.save("mymodel.h5")
