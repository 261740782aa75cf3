# Fashion-MNIST in the certificate exam's style: solution_model() loads the data itself, builds,
# compiles and trains the model, and returns it; run as a script, it saves the model.
import tensorflow as tf


def solution_model():
    fashion_mnist = tf.keras.datasets.fashion_mnist
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    x_train, x_test = x_train / 255.0, x_test / 255.0

    model = tf.keras.models.Sequential([
        tf.keras.layers.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, validation_data=(x_test, y_test), verbose=2)
    return model


# The exam's own lines: they run when you run this file, not when the grader imports it.
if __name__ == "__main__":
    model = solution_model()
    model.save("mymodel.h5")
