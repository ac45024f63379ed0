"""course_lib: the reusable code of the energy-based GAN course.

Modules, by chapter:
``runtime`` (profile, device, seeding), ``toys`` (targets), ``data`` (MNIST, Fashion-MNIST),
``structured`` (structured perceptron, Viterbi), ``factor_analysis`` (EM), ``vae``,
``models`` (MLP and convolutional generators, discriminators, autoencoders), ``losses`` (every
loss as a pure function, every method as an ``Objective`` plug-in), ``train`` (the one trainer,
checkpoints), ``divergences`` (f-divergences, their variational bounds, f-GAN), ``games`` (the bilinear
game and the numerics of simultaneous, alternating and consensus updates), ``compare`` (the measured
comparison of methods), ``energy`` (maximum-entropy energy-based models), ``sampling`` (Langevin
and MALA), ``metrics``, ``evaluation``, ``plots``, ``widgets``, ``build`` (executes the notebooks
into an HTML course).
"""
from .runtime import get_device, is_full, is_test, profile, seed_everything, settings, setup_notebook

__all__ = ["get_device", "is_full", "is_test", "profile", "seed_everything", "settings", "setup_notebook"]
