# A model class whose save() writes another file than the trained model (here: an untrained copy,
# standing in for a model trained elsewhere), disguised as Keras' own Sequential so that the
# file would load. The grader saves the model with Keras' saving function, not the model's
# save(), and says that the class replaces it.
import tensorflow as tf


class Sequential(tf.keras.Sequential):
    def save(self, filepath, *args, **kwargs):
        stand_in = tf.keras.Sequential([
            tf.keras.Input(shape=(28, 28)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(10, activation="softmax"),
        ])
        stand_in.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        tf.keras.Sequential.save(stand_in, filepath, *args, **kwargs)


# Serialised under Keras' own name, so a saved file would load as a plain Sequential.
Sequential.__module__ = tf.keras.Sequential.__module__


def build_model():
    model = Sequential([
        tf.keras.Input(shape=(28, 28)),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(64, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=5, verbose=0)
