# build_model() returns a description of a model, not a Keras model.
def build_model():
    return {"layers": ["Flatten", "Dense(64, relu)", "Dense(10, softmax)"], "optimizer": "adam"}


def train(model, train_images, train_labels):
    return {"loss": [2.3, 0.5]}
