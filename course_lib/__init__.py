"""course_lib: the reusable code of the energy-based GAN course.

Modules: ``runtime`` (profile, device, seeding), ``toys`` (targets), ``models``, ``losses``,
``train`` (the one trainer, checkpoints), ``metrics``, ``plots``.
"""
from .runtime import get_device, is_test, profile, seed_everything, settings, setup_notebook

__all__ = ["get_device", "is_test", "profile", "seed_everything", "settings", "setup_notebook"]
