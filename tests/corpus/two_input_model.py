# A functional model with two inputs (the image twice) that trains and saves without trouble:
# the exercise's model takes one image. The grader refuses it before loading, from the saved
# config, with a failed check rather than a crash.
import tensorflow as tf


def build_model():
    first = tf.keras.Input(shape=(28, 28))
    second = tf.keras.Input(shape=(28, 28))
    joined = tf.keras.layers.Concatenate()([tf.keras.layers.Flatten()(first), tf.keras.layers.Flatten()(second)])
    hidden = tf.keras.layers.Dense(64, activation="relu")(joined)
    output = tf.keras.layers.Dense(10, activation="softmax")(hidden)
    model = tf.keras.Model([first, second], output)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit([train_images, train_images], train_labels, epochs=5, verbose=0)
