# A TensorFlow 1 graph with the data from Keras: placeholders, a Session, feed_dict.
import numpy as np
import tensorflow as tf

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, 784).astype(np.float32) / 255.0
x_test = x_test.reshape(-1, 784).astype(np.float32) / 255.0

X = tf.placeholder(tf.float32, shape=[None, 784], name="X")
Y = tf.placeholder(tf.int64, shape=[None], name="Y")

hidden = tf.layers.dense(X, 128, activation=tf.nn.relu)
logits = tf.layers.dense(hidden, 10)
loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=Y, logits=logits))
train_op = tf.train.AdamOptimizer(learning_rate=0.001).minimize(loss)
accuracy = tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, 1), Y), tf.float32))

with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    for epoch in range(3):
        for start in range(0, len(x_train), 100):
            sess.run(train_op, feed_dict={X: x_train[start:start + 100], Y: y_train[start:start + 100]})
        print("epoch", epoch, sess.run(accuracy, feed_dict={X: x_test, Y: y_test}))
