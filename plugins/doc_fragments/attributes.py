# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # For modules that only read: alicloud.cloudsso.attributes.read_only
    READ_ONLY = r"""
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is no diff.
"""

    # For modules that change something: alicloud.cloudsso.attributes.changes
    CHANGES = r"""
attributes:
  check_mode:
    support: full
    description: Makes no write call and predicts RV(ignore:changed).
  diff_mode:
    support: full
    description: Shows the state before and after the change. Never a secret.
"""
