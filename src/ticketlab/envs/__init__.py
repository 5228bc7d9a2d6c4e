"""Environments by id: the registry of ids and families (registry.py), the backends that step them
inside a training program (backends.py), and each environment family: gymnax ids, MazeGrid,
Gymnasium on the host, PyBullet, Brax, ALE games, labelled datasets."""
