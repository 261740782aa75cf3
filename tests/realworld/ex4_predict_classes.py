# Train, then look at a few predictions the way Keras 2 tutorials did.
import numpy as np
import tensorflow as tf

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0

model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2)

loss, acc = model.evaluate(x_test, y_test)
print("Test accuracy:", acc)

predicted = model.predict_classes(x_test[:10])
print("predicted:", predicted)
print("actual:   ", y_test[:10])
