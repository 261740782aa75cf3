# Mean squared error, as in a regression tutorial, with integer labels and 10 softmax outputs.
import tensorflow as tf

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0

model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="mse", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2)
model.evaluate(x_test, y_test)
