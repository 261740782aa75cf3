# train() waits for an accuracy the model never reaches on one epoch at a time... forever.
import tensorflow as tf


def build_model():
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    accuracy = 0.0
    while accuracy < 1.01:  # accuracy never exceeds 1
        history = model.fit(train_images, train_labels, epochs=1, verbose=0)
        accuracy = history.history["accuracy"][-1]
    return history
