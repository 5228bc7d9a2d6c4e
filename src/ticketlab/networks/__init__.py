"""One network for every agent (network.py), its conv torsos (torsos.py) and initialization schemes
(init.py), all registries."""
