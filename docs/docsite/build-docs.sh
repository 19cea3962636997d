#!/usr/bin/env bash
# Build the HTML documentation site of alicloud.cloudsso (make docs): the modules', the role's and the
# playbooks' own documentation, rendered by antsibull-docs, plus the user guide in docs/docsite/rst/.
#
#   docs/docsite/build-docs.sh [DEST]        (default DEST: .build/docs; the site is DEST/build/html)
#
# Needs antsibull-docs, sphinx and sphinx-ansible-theme (tests/requirements.txt) and the collection on
# ANSIBLE_COLLECTIONS_PATH (make collections-tree). Works offline: the links to the Ansible documentation
# (common return values, configuration settings) come from a small intersphinx inventory written here instead
# of one downloaded from docs.ansible.com, so Sphinx runs with -W (every warning is an error).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dest=${1:-$root/.build/docs}
bin=${VENV_BIN:-$root/.venv/bin}
export PATH=$bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=${ANSIBLE_COLLECTIONS_PATH:-$root/.build/collections}

rm -rf "$dest"
mkdir -p "$dest"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$dest" \
  --project alicloud.cloudsso --title "alicloud.cloudsso" alicloud.cloudsso >/dev/null

# Offline intersphinx: only the Ansible labels the generated pages reference.
python - "$dest" <<'PY'
import sys, zlib
dest = sys.argv[1]
labels = {
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values",
                             "Return Values"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings",
                                       "Ansible Configuration Settings"),
}
body = "".join("%s std:label -1 %s %s\n" % (name, uri, title) for name, (uri, title) in sorted(labels.items()))
header = ("# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
          "# The remainder of this file is compressed using zlib.\n")
with open(dest + "/ansible_devel.inv", "wb") as handle:
    handle.write(header.encode() + zlib.compress(body.encode()))
with open(dest + "/conf.py", "a") as handle:
    handle.write("\n# Offline build (docs/docsite/build-docs.sh): no inventory is downloaded.\n"
                 "intersphinx_mapping = {'ansible_devel': ('https://docs.ansible.com/projects/ansible/devel/',"
                 " %r)}\n" % (dest + "/ansible_devel.inv"))
PY

"$dest/build.sh"
echo "Documentation site: $dest/build/html/index.html"
