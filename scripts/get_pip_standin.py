"""Stand-in for ansible-test's pip bootstrap script (get-pip.py), whose download host is not reachable
from every CI machine. It installs pip from the interpreter's own ensurepip bundle, then the packages
ansible-test asked for, from the package index pip is configured with."""

import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
