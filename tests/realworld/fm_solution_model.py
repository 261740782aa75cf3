# ======================================================================
# Build and train a classifier for the Fashion-MNIST dataset.
# The test will expect it to classify 10 classes.
# Desired accuracy AND validation_accuracy > 85%
# ======================================================================
import tensorflow as tf


class myCallback(tf.keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs={}):
        if logs.get('accuracy') > 0.89 and logs.get('val_accuracy') > 0.87:
            print("\nReached the target accuracy, so cancelling training!")
            self.model.stop_training = True


def solution_model():
    fashion_mnist = tf.keras.datasets.fashion_mnist
    (training_images, training_labels), (test_images, test_labels) = fashion_mnist.load_data()
    training_images = training_images / 255.0
    test_images = test_images / 255.0

    model = tf.keras.models.Sequential([
        tf.keras.layers.Flatten(input_shape=(28, 28)),
        tf.keras.layers.Dense(64, activation=tf.nn.relu),
        tf.keras.layers.Dense(10, activation=tf.nn.softmax)
    ])
    model.compile(optimizer='adam',
                  loss='sparse_categorical_crossentropy',
                  metrics=['accuracy'])
    model.fit(training_images, training_labels, epochs=5,
              validation_data=(test_images, test_labels),
              callbacks=[myCallback()])
    return model


if __name__ == '__main__':
    model = solution_model()
    model.save("mymodel.h5")
