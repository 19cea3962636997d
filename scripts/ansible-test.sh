#!/usr/bin/env bash
# Run ansible-test on a copy of this checkout laid out as ansible_collections/alicloud/cloudsso
# (ansible-test resolves symlinks, so a symlinked tree does not work).
# Usage: scripts/ansible-test.sh sanity --python 3.11 [more ansible-test arguments]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
work=$root/.build/ansible-test
tree=$work/ansible_collections/alicloud/cloudsso
rm -rf "$tree"
mkdir -p "$tree"
cd "$root"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] || continue
  mkdir -p "$tree/$(dirname "$f")"
  cp -p "$f" "$tree/$f"
done
# ansible-test downloads a pip bootstrap script from a host CI cannot always reach; seed its cache
# (kept inside the checkout through HOME) with a stand-in that uses ensurepip.
export HOME=$work/home
pip_version=$("$venv/bin/python" -c '
from ansible_test._internal.python_requirements import get_venv_packages
class P: version = "3.11"
print(get_venv_packages(P())["pip"])')
mkdir -p "$HOME/.ansible/test/cache"
cp "$root/scripts/get_pip_standin.py" "$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
cd "$tree"
PATH=$venv/bin:$PATH exec "$venv/bin/ansible-test" "$@"
