# Feeding batches from a Python generator, as older Keras tutorials did.
import numpy as np
import tensorflow as tf

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_train = x_train.astype("float32") / 255.0
x_test = x_test.astype("float32") / 255.0

BATCH = 64


def batches(images, labels, batch_size):
    while True:
        order = np.random.permutation(len(images))
        for start in range(0, len(images) - batch_size + 1, batch_size):
            chosen = order[start:start + batch_size]
            yield images[chosen], labels[chosen]


model = tf.keras.Sequential([
    tf.keras.layers.Flatten(input_shape=(28, 28)),
    tf.keras.layers.Dense(128, activation="relu"),
    tf.keras.layers.Dense(10, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

model.fit_generator(batches(x_train, y_train, BATCH),
                    steps_per_epoch=len(x_train) // BATCH,
                    epochs=2)
print(model.evaluate(x_test, y_test))
