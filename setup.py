"""What pyproject.toml cannot say: the packages to ship, with the top-level web/ and configs/
folders inside the arena package as `arena.assets` and `arena.examples` (they stay where they are
in the repository; arena/core/resources.py finds them in a checkout and in an install alike)."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["arena", "arena.*", "ratings", "ratings.*"]),
        "arena.assets",
        "arena.examples",
    ],
    package_dir={"arena.assets": "web", "arena.examples": "configs"},
)
