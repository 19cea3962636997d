# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one parser of the ISO 8601 times the APIs answer with: CloudSSO and ActionTrail (`2024-01-04T08:00:00Z`),
STS and the ECS metadata service (expirations), Microsoft Graph (`2024-01-04T08:00:00.1234567Z`, `+00:00`)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from datetime import datetime, timedelta, timezone

# Parsed by hand: datetime.fromisoformat before Python 3.11 rejects "Z" and fractions of other than 3 or 6 digits.
ISO_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2})?(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?)?$")


def parse_iso_time(value):
    """`value` as an aware UTC datetime; None when it is empty or not such a time. No zone means UTC; a date
    alone is its midnight; seconds may be left out."""
    if value in (None, ""):
        return None
    match = ISO_TIME.match(str(value).strip())
    if not match:
        return None
    day, clock, seconds, fraction, offset = match.groups()
    try:
        parsed = datetime.strptime("%sT%s%s" % (day, clock or "00:00", seconds or ":00"),
                                   "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:  # 2024-13-45T...
        return None
    if fraction:
        parsed += timedelta(microseconds=int((fraction + "000000")[:6]))
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        parsed -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return parsed
