"""An outside tester's attack, written afresh: model.fit runs on a handful of images, then a
callback's on_train_end (still inside fit, so the weights digest taken after fit matches) puts
other weights into the model -- at home they were trained on the test split; here a hidden
training loop stands in for them. The History says training got nowhere; the model the grader
measures is far better on training images than that. Expected: the fair-run check fails."""

import tensorflow as tf
from tensorflow import keras


def build_model():
    model = keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    images = tf.constant(train_images / 255.0, dtype=tf.float32)
    labels = tf.constant(train_labels)

    class Swap(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            optimizer = keras.optimizers.Adam(0.01)
            loss = keras.losses.SparseCategoricalCrossentropy()
            for _ in range(150):
                with tf.GradientTape() as tape:
                    value = loss(labels, self.model(images, training=True))
                grads = tape.gradient(value, self.model.trainable_variables)
                optimizer.apply_gradients(zip(grads, self.model.trainable_variables))

    return model.fit(train_images[:8] / 255.0, train_labels[:8], epochs=1, callbacks=[Swap()])
