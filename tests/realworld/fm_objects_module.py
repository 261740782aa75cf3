"""The chapter's case study in the stub's functions, with Keras objects instead of strings."""
import tensorflow as tf
from tensorflow import keras


def build_model():
    model = keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    return model


def train(model, train_images, train_labels):
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2)
    return model.fit(train_images, train_labels, epochs=6, validation_split=0.1,
                     callbacks=[early_stopping])
