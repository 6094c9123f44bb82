# SPDX-License-Identifier: MIT
# The metadata is in pyproject.toml; setuptools 66 takes cffi's extension
# from here only.
from setuptools import setup

setup(cffi_modules=["nvmeta_build.py:ffibuilder"])
