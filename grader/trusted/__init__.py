"""Trusted evaluation: the grader's own code measures the model it scores.

Learner code never runs here. The pieces, in the order a grading uses them:

* ``archive``: reads a saved ``.keras`` file's ``config.json`` as plain JSON, before anything is
  loaded, and refuses files the evaluation must not load (too large, two inputs, a graph that
  applies one layer a million times, a layer asking for billions of parameters);
* ``protocol``: what the grader and the evaluation process say to each other, typed: the
  request (one JSON line: which model, the time limit, the dataset's image shape and classes)
  and the answer (``result.json``: the model's facts and predictions, or an error code), each
  validated when it is read;
* ``worker``: the evaluation process (``python -m grader.trusted.worker``). It starts while the
  sandbox trains (importing TensorFlow then), runs under the sandbox's limits (bubblewrap when
  available, no network, a memory limit and an alarm), loads the model in Keras' safe mode,
  records the model's facts (layers, parameters, compile settings) and returns predictions for
  the test images and a sample of training images. It never sees the test labels;
* ``weights``: the digest of a model's weights, computed the same way in the sandbox (right
  after ``model.fit`` returns) and here, so the model scored is the model trained;
* ``grader.evaluation``: the grader's side. It starts the worker, checks the archive, hands it
  the model, and computes accuracy, per-class figures and the confusion matrix from the
  predictions with the labels only it holds.
"""
