# Debug printing left in: every pixel of every image is printed (50 MB), then training.
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
    line = "pixel " * 16 + "\n"
    for _ in range(50 * 1024 * 1024 // len(line)):
        print(line, end="")
    return model.fit(train_images, train_labels, epochs=5, verbose=0)
