# A Keras 2-era multilayer perceptron: flat vectors, input_dim, validation split, early stopping.
import numpy as np
from tensorflow import keras
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Dropout
from tensorflow.keras.callbacks import EarlyStopping

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(60000, 784).astype("float32") / 255
x_test = x_test.reshape(10000, 784).astype("float32") / 255
print(x_train.shape[0], "train samples")
print(x_test.shape[0], "test samples")

model = Sequential()
model.add(Dense(256, activation="relu", input_dim=784))
model.add(Dropout(0.2))
model.add(Dense(10, activation="softmax"))
model.summary()

model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["acc"])
early_stop = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
history = model.fit(x_train, y_train, batch_size=64, epochs=3,
                    validation_split=0.2, callbacks=[early_stop], verbose=2)
print("Test loss, test accuracy:", model.evaluate(x_test, y_test, verbose=0))
