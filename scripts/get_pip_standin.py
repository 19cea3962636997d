"""Stand-in for ansible-test's pip bootstrap script (get-pip.py), whose download host is not reachable
from every CI machine. It installs the pip ansible-test asks for from the package index pip is configured with.

scripts/ansible-test.sh fills in BOOTSTRAP_PYTHON, the interpreter of the venv that runs ansible-test: its pip
installs into the new virtual environment (`pip --python`), one pip run instead of three (ensurepip's pip and
setuptools, then the pip asked for), about 3 CPU-seconds less for each of the ten environments of a cold
`make sanity`. Without it, pip comes from the interpreter's own ensurepip bundle first."""

import subprocess
import sys

BOOTSTRAP_PYTHON = None
IGNORED = {"--no-setuptools", "--no-wheel"}

args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
if BOOTSTRAP_PYTHON:
    subprocess.check_call([BOOTSTRAP_PYTHON, "-m", "pip", "--python", sys.executable, "install"] + args)
else:
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
    if args:
        subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
