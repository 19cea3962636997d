#!/usr/bin/env bash
# Run ansible-test on a copy of this checkout laid out as ansible_collections/alicloud/cloudsso
# (ansible-test resolves symlinks, so a symlinked tree does not work).
# Usage: scripts/ansible-test.sh sanity --python 3.11 [more ansible-test arguments]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
work=$root/.build/ansible-test
# The tree must lie outside this git checkout: inside it, ansible-test asks git for the file list and
# finds nothing (.build is ignored).
copy=$(mktemp -d "${TMPDIR:-/tmp}/alicloud-cloudsso-ansible-test.XXXXXX")
trap 'rm -rf "$copy"' EXIT
tree=$copy/ansible_collections/alicloud/cloudsso
mkdir -p "$tree" "$work"
cd "$root"
# Only what ships in the Galaxy artifact (galaxy.yml build_ignore): the emulator, the tests' harness and
# the benchmarks are development tools with their own pytest suites, not collection content.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  case "$f" in emulator/*|tests/*|benchmarks/*|scripts/*|.ci/*|Makefile) continue ;; esac
  mkdir -p "$tree/$(dirname "$f")"
  cp -p "$f" "$tree/$f"
done
# ansible-test downloads a pip bootstrap script from a host CI cannot always reach; seed its cache
# (kept inside the checkout through HOME) with scripts/get_pip_standin.py.
export HOME=$work/home
pip_version=$("$venv/bin/python" -c '
from ansible_test._internal.python_requirements import get_venv_packages
class P: version = "3.11"
print(get_venv_packages(P())["pip"])')
mkdir -p "$HOME/.ansible/test/cache"
# The stand-in installs pip with this venv's pip (BOOTSTRAP_PYTHON): one pip run per sanity environment.
"$venv/bin/python" - "$root/scripts/get_pip_standin.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py" \
  "$venv/bin/python" <<'EOF'
import sys
source, target, python = sys.argv[1:]
with open(source) as handle:
    text = handle.read()
assert "\nBOOTSTRAP_PYTHON = None\n" in text
with open(target, "w") as handle:
    handle.write(text.replace("\nBOOTSTRAP_PYTHON = None\n", "\nBOOTSTRAP_PYTHON = %r\n" % python, 1))
EOF
cd "$tree"
PATH=$venv/bin:$PATH "$venv/bin/ansible-test" "$@"
