# An outside tester's file: honest but under-trained (one epoch of SGD); graded fairly, not accused.
import tensorflow as tf

def load_data():
    (x, y), (xt, yt) = tf.keras.datasets.mnist.load_data()
    return (x / 255.0, y), (xt / 255.0, yt)

def build_model():
    model = tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(8, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=1, batch_size=256)
