# The package's version: always the library's (SW_VERSION_STRING in
# include/stopwise/base.h, project(VERSION) in CMakeLists.txt). The binding
# mirrors the library's structs, so it loads only a library of this exact
# version (stopwise._lib); tests/python checks the three agree.
__version__ = "0.1.0"
