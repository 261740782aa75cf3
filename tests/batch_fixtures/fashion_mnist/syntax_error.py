"""Broken: a syntax error, so the file cannot even be imported."""

import tensorflow as tf


def build_model(:
    return None


def train(model, train_images, train_labels):
    return model.fit(train_images, train_labels, epochs=30, verbose=0)
