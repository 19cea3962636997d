"""The shipped playbooks through ansible-playbook with an inventory of directories, as users run them."""

import glob
import json
import os
import re

import yaml

from tests.helpers.ansible import ROOT, target_python

EXPIRY = os.path.join(ROOT, "playbooks", "expiry_report.yml")
ROTATE = os.path.join(ROOT, "playbooks", "rotate.yml")


def inventory(cloud, hosts):
    path = os.path.join(cloud.work, "directories.yml")
    with open(path, "w") as handle:
        yaml.safe_dump({"all": {"hosts": hosts, "vars": {"ansible_python_interpreter": target_python()}}}, handle)
    return path


def test_expiry_report_fails_on_a_credential_expiring_soon(cloud):
    soon, _ = cloud.directory(credentials=[{"create_time": "2026-01-04T08:00:00Z"}])   # expires 2027-01-04
    fresh, _ = cloud.directory(credentials=[{}])
    two, _ = cloud.directory(credentials=[{"create_time": "2026-06-01T00:00:00Z", "status": "Disabled"}, {}])
    # Three directories are three accounts: each host reaches its own through scim_rotation_auth.
    inv = inventory(cloud, {"soon": {"directory_id": soon, "scim_rotation_auth": cloud.auth[soon]},
                            "fresh": {"directory_id": fresh, "scim_rotation_auth": cloud.auth[fresh]},
                            "two": {"scim_rotation_directory_id": two, "scim_rotation_auth": cloud.auth[two]}})
    report = os.path.join(cloud.work, "expiry.json")
    run = cloud.runner.playbook(EXPIRY, {"expiry_report_days": 60, "expiry_report_path": report,
                                         "expiry_report_usage": False}, inventory=inv, expect_rc=2, verbosity=0)
    # The directory that expires is the failed host, not the run_once host; the others are not failed.
    assert "fatal: [soon]" in run.stdout and "fatal: [fresh]" not in run.stdout and "fatal: [two]" not in run.stdout
    recap = run.stdout.split("PLAY RECAP")[-1]
    assert re.search(r"soon\s+:.*failed=1", recap) and re.search(r"fresh\s+:.*failed=0", recap)
    (soon_cred,) = [c for c in cloud.credentials(soon)]
    assert "%s: %s expires within 60 days" % (soon, soon_cred) in run.stdout
    # A table on screen: a header, a rule, one line per credential with its verdict; not one long line.
    assert re.search(r"directory\s+credential\s+status\s+age\s+expires in\s+last used\s+verdict", run.stdout)
    assert re.search(r"%s\s+%s\s+Enabled\s+\d+ d\s+\d+ d\s+not checked\s+EXPIRES SOON: rotate" % (soon, soon_cred),
                     run.stdout)
    assert re.search(r"%s\s+scimcred-\w+\s+Disabled\s+.*disabled" % two, run.stdout)
    assert "; " not in [line for line in run.stdout.splitlines() if soon_cred in line and "EXPIRES" in line][0]
    # Markdown and HTML next to the JSON, for a ticket.
    markdown = open(report[:-len(".json")] + ".md").read()
    assert "| directory | credential | status | age | expires in | last used | verdict |" in markdown
    assert re.search(r"\| %s \| %s \| Enabled \| .* \| EXPIRES SOON: rotate \|" % (soon, soon_cred), markdown)
    html = open(report[:-len(".json")] + ".html").read()
    assert "<th>expires in</th>" in html and "<td>%s</td>" % soon_cred in html and html.count("<tr>") == 5
    data = json.load(open(report))
    rows = dict((row["directory_id"], row) for row in data["directories"])
    assert set(rows) == {soon, fresh, two}
    assert len(rows[soon]["expiring"]) == 1 and rows[fresh]["expiring"] == [] and rows[two]["expiring"] == []
    assert len(rows[two]["credentials"]) == 2
    assert all(c["expires_in_days"] is not None and c["age_days"] is not None for c in rows[two]["credentials"])


def test_expiry_report_can_warn_and_shows_the_credential_in_use(cloud):
    directory_id, (cred,) = cloud.directory(credentials=[{"create_time": "2026-01-04T08:00:00Z"}])
    idp = cloud.control.call("POST", "idps", {"kind": "manual", "directory_id": directory_id, "interval": 0,
                                              "credential_id": cred["credential_id"]})
    cloud.control.call("POST", "idps/%s/sync" % idp["idp_id"])
    inv = inventory(cloud, {"corp": {"directory_id": directory_id, "region": "cn-shanghai"}})
    run = cloud.runner.playbook(EXPIRY, {"expiry_report_days": 60, "expiry_report_fail": False}, inventory=inv,
                                verbosity=0)
    assert "WARNING: SCIM credentials expiring within 60 days: %s" % directory_id in run.stdout
    assert "fatal:" not in run.stdout
    # ActionTrail's last use is in the table.
    assert re.search(r"%s\s+Enabled\s+\d+ d\s+\d+ d\s+\d{4}-\d\d-\d\dT[\d:]+Z\s+EXPIRES SOON" % cred["credential_id"],
                     run.stdout)


def test_rotate_playbook_rotates_each_directory_with_short_host_variable_names(cloud):
    hosts = {}
    idps = {}
    for name in ("alpha", "beta"):
        directory_id, (cred,) = cloud.directory(credentials=[{"create_time": "2026-01-04T08:00:00Z"}])
        idp = cloud.control.call("POST", "idps", {"kind": "entra", "directory_id": directory_id, "interval": 1,
                                                  "credential_id": cred["credential_id"]})
        cloud.runner.extra_secrets.append(idp["client_secret"])
        idps[name] = (idp, cred["credential_id"])
        hosts[name] = {"directory_id": directory_id, "region": "cn-shanghai", "scim_rotation_idp": "entra_id",
                       "scim_rotation_auth": cloud.auth[directory_id],
                       "scim_rotation_entra": {"service_principal_id": idp["service_principal_id"],
                                               "tenant_id": idp["tenant_id"], "client_id": idp["client_id"]},
                       "scim_rotation_state_dir": os.path.join(cloud.work, "state-" + name),
                       "scim_rotation_verify_interval_seconds": 1, "scim_rotation_usage_window": "1h"}
    inv = inventory(cloud, hosts)
    # Each directory's Entra app has its own secret: give them per host through a 0600 vars file, as a vault would.
    secrets_vars = os.path.join(cloud.secrets_dir, "entra.yml")
    with open(secrets_vars, "w") as handle:
        yaml.safe_dump({"entra_client_secrets": dict((n, idps[n][0]["client_secret"]) for n in idps)}, handle)
    os.chmod(secrets_vars, 0o600)
    cloud.runner.allow_secret_file(secrets_vars)
    for name in hosts:
        cloud.runner.allow_secret_file(os.path.join(cloud.work, "state-" + name, hosts[name]["directory_id"],
                                                    "pending.json"))
    play = os.path.join(cloud.work, "rotate-with-secrets.yml")
    with open(play, "w") as handle:
        handle.write("- name: Load the Entra client secrets\n  hosts: all\n  gather_facts: false\n  tasks:\n"
                     "    - name: Add each host's client secret to its Entra options\n"
                     "      ansible.builtin.set_fact:\n"
                     "        scim_rotation_entra: \"{{ scim_rotation_entra | combine({'client_secret': "
                     "entra_client_secrets[inventory_hostname]}) }}\"\n"
                     "      no_log: true\n"
                     "  vars_files: [%s]\n"
                     "- name: Rotate\n  ansible.builtin.import_playbook: %s\n" % (secrets_vars, ROTATE))
    run = cloud.runner.playbook(play, inventory=inv, forks=2)
    for name, (idp, old_id) in idps.items():
        directory_id = hosts[name]["directory_id"]
        creds = cloud.credentials(directory_id)
        assert len(creds) == 1 and old_id not in creds
        new_id = list(creds)[0]
        assert cloud.control.call("GET", "idps/" + idp["idp_id"])["credential_id"] == new_id
        assert "%s: rotated: %s -> %s, old credential deleted" % (directory_id, old_id, new_id) in run.stdout


def test_rotation_whose_verification_waits_in_vain_says_so_and_puts_the_old_credential_back(cloud):
    """The IdP never calls with the new token (the custom task file hands it to nobody): the verify step's
    bounded wait ends with a sentence naming the credential, the polls and the variable to raise; the rescue
    re-enables the old credential and keeps the new one (the IdP may hold it)."""
    directory_id, (old,) = cloud.directory(credentials=[{"create_time": "2026-01-04T08:00:00Z"}])
    tasks = os.path.join(cloud.work, "hand_to_nobody.yml")
    with open(tasks, "w") as handle:
        handle.write("- name: Hand the token to nobody\n  ansible.builtin.debug:\n"
                     "    msg: \"{{ scim_rotation_new_credential_id }}\"\n")
    state = os.path.join(cloud.work, "state")
    cloud.runner.allow_secret_file(os.path.join(state, directory_id, "pending.json"))
    inv = inventory(cloud, {"corp": {"directory_id": directory_id, "region": "cn-shanghai",
                                     "scim_rotation_idp": "custom", "scim_rotation_idp_tasks": tasks,
                                     "scim_rotation_state_dir": state, "scim_rotation_usage_window": "1h",
                                     "scim_rotation_verify_interval_seconds": 1,
                                     "scim_rotation_verify_timeout_seconds": 2}})
    run = cloud.runner.playbook(ROTATE, inventory=inv, expect_rc=2)
    creds = cloud.credentials(directory_id)
    assert creds[old["credential_id"]] == "Enabled" and len(creds) == 2
    (new_id,) = [c for c in creds if c != old["credential_id"]]
    assert "no ActionTrail event shows %s in use since" % new_id in run.stdout
    assert "polls (scim_rotation_verify_timeout_seconds: 2)" in run.stdout
    report = json.load(open(glob.glob(os.path.join(state, "reports", directory_id + "-*.json"))[0]))
    assert "no ActionTrail event shows %s" % new_id in report["message"] and "Unknown error" not in report["message"]
    assert report["outcome"] == "failed" and report["failed_step"] == "verify"
    assert report["rescue"]["old_reenabled"] is True and report["rescue"]["new_deleted"] is False
