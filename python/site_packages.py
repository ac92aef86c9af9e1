"""Prints where the package goes under an installation prefix, relative to it: the interpreter's own
site-packages when it lies under the prefix (Debian's /usr/local/lib/python3.X/dist-packages, a venv),
else the standard layout under the prefix (lib/python3.X/site-packages), which then needs PYTHONPATH."""
import os
import sys
import sysconfig

prefix = os.path.abspath(sys.argv[1])
site = sysconfig.get_path("platlib")
if os.path.commonpath([site, prefix]) != prefix:
    site = sysconfig.get_path("platlib", "posix_prefix", vars={"base": prefix, "platbase": prefix})
print(os.path.relpath(site, prefix), end="")
