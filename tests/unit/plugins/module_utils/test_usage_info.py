# -*- coding: utf-8 -*-
# Copyright (c) alicloud.cloudsso contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""module_utils.usage_info: the deciders of the scim_usage_info module, on plain values (the module end to
end is tests/unit/plugins/modules/test_scim_usage_info.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.alicloud.cloudsso.plugins.module_utils import usage_info as ui

OLD = "scimcred-004whmnsa1rxe8oldold"
NEW = "scimcred-004whmnsa1rxe8newnew"
GONE = "scimcred-004whmnsa1rxe8gone00"


# --- options -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("params,words", [
    (dict(event_names=[]), "event_names"),
    (dict(event_names=["ListUsers", " "]), "event_names"),
    (dict(event_names=["ListUsers"], max_calls_per_second=0), "max_calls_per_second"),
    (dict(event_names=["ListUsers"], max_calls_per_second=2.5), "at most 2"),
    (dict(event_names=["ListUsers"], max_pages=0), "max_pages"),
])
def test_option_problems(params, words):
    problems = ui.option_problems(params)
    assert len(problems) == 1 and words in problems[0]


def test_good_options_have_no_problems():
    assert ui.option_problems(dict(event_names=["ListUsers", "GetUser"], max_calls_per_second=2,
                                   max_pages=None)) == []
    assert ui.option_problems(dict(event_names=["ListUsers"], max_calls_per_second=0.25, max_pages=1)) == []
    assert ui.clean_event_names([" ListUsers", "GetUser", "ListUsers"]) == ["ListUsers", "GetUser"]


@pytest.mark.parametrize("values", [None, [], [""], ["ListUsers", None], ["ListUsers", "  "]])
def test_event_names_with_an_empty_one_are_none(values):
    assert ui.clean_event_names(values) == []


# --- what to check ---------------------------------------------------------------------------------------

def test_a_scan_needs_a_directory_or_credential_ids():
    (problem,) = ui.target_problems(None, None, None)
    assert "give directory_id or at least one credential ID" in problem
    assert ui.target_problems(None, [], None) == [problem]
    assert ui.target_problems("d-00fc2p61abcd", None, None) == []
    assert ui.target_problems(None, [OLD], None) == []


def test_the_actiontrail_region_must_be_a_region_id():
    (problem,) = ui.target_problems(None, [OLD], "Shanghai!")
    assert "actiontrail_region 'Shanghai!' is not a valid Alibaba Cloud region ID" in problem
    assert ui.target_problems(None, [OLD], "ap-southeast-1") == []
    assert len(ui.target_problems(None, None, "bad region")) == 2


def test_without_a_directory_the_requested_ids_are_checked_once_each_and_none_is_a_stranger():
    assert ui.credentials_to_check(None, [NEW, OLD, NEW]) == ([NEW, OLD], [])
    assert ui.credentials_to_check(None, None) == ([], [])


def test_the_directory_ids_come_first_and_requested_strangers_are_named():
    assert ui.credentials_to_check([OLD, NEW], None) == ([OLD, NEW], [])
    assert ui.credentials_to_check([OLD, NEW], [NEW]) == ([OLD, NEW], [])
    assert ui.credentials_to_check([OLD, NEW], [GONE, NEW]) == ([OLD, NEW, GONE], [GONE])
    assert ui.credentials_to_check([], [GONE]) == ([GONE], [GONE])
