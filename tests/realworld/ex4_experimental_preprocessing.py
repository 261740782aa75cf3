# Scaling inside the model with a preprocessing layer (TF 2.3-2.5 spelling).
import tensorflow as tf
from tensorflow.keras.layers.experimental import preprocessing

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()

model = tf.keras.Sequential([
    preprocessing.Rescaling(1.0 / 255, input_shape=(28, 28)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(128, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=2, validation_data=(x_test, y_test))
