"""The methods, one module each; the shared machinery (front end, models, training, evaluation,
song-level SVMs, export, prediction) lives beside this package in :mod:`mer`.

* :mod:`mer.methods.two_stage` — seed 000: masked convolutional autoencoder + BiLSTM, and its CNN + BiLSTM baseline;
* :mod:`mer.methods.sssl` — seed 001: SSSL segment classifiers and their song-level SVMs;
* :mod:`mer.methods.chroma_bilstm` — seed 002: chroma + HPSS BiLSTM on antonym soft labels;
* :mod:`mer.methods.tagger` — seed 003: spectrogram CNN emotion tagging;
* :mod:`mer.methods.smile_svm` — the classical baseline: openSMILE functionals → SVM;
* :mod:`mer.methods.mel_svm` — the floor: log-mel band statistics → SVM;
* :mod:`mer.methods.fusion` — one SVM over several methods' song features.
"""
