"""The manual hand-off as an Okta admin lives it: the first run writes the instructions, a run before the paste
ends at once saying it still waits, the run after the paste finishes and removes the hand-off files. What the
instructions say is what the run does, and what docs/idp-manual-handoff.md says."""

import os
import re

from tests.helpers.ansible import ROOT
from tests.integration.test_rotation_resume import World

HANDOFF_DOC = os.path.join(ROOT, "docs", "idp-manual-handoff.md")


def test_manual_handoff_says_one_thing_waits_quickly_and_cleans_up(cloud):
    world = World(cloud, "manual")
    handoff = os.path.join(world.folder, "HANDOFF.txt")

    first = world.rotate()
    assert first["outcome"] == "waiting_for_handoff"
    new_id = first["new_credential_id"]
    text = open(handoff).read()
    # The instructions name the file the run wrote, and say to keep it until the next run removes it.
    assert "Token file:       %s" % world.pending in text and os.path.exists(world.pending)
    assert "Do not delete the token file" in text and "removes it" in text
    assert "Old credential:   %s (still Enabled" % world.old["credential_id"] in text
    # The guide says the same: the token file is <state_dir>/<directory>/pending.json, and is not deleted by hand.
    guide = open(HANDOFF_DOC).read()
    assert "<scim_rotation_state_dir>/<directory_id>/pending.json" in guide
    assert not re.search(r"(?i)after pasting, delete the file", guide)
    assert "Do not delete the token file" in guide

    # Nothing pasted yet: the next run ends at once, saying it still waits (no verify polling).
    second = world.rotate()
    assert second["outcome"] == "waiting_for_handoff", second["message"]
    assert "still waiting" in second["message"] and new_id in second["message"]
    assert world.runner.runs[-1].elapsed < 60, world.runner.runs[-1].elapsed
    assert "FAILED - RETRYING" not in world.runner.runs[-1].stdout
    assert world.credentials() == {world.old["credential_id"]: "Enabled", new_id: "Enabled"}

    # Pasted: the run finishes, and no hand-off file is left saying the old credential is Enabled.
    world.paste_new_token()
    world.assert_converged(world.rotate())
    assert not os.path.exists(handoff) and not os.path.exists(world.pending)
