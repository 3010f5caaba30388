# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The agent role's changes on a host, as root, in one call: files, documents, the agent's configuration, the record.

Every write goes through host_files (no link followed at any component, final owner and mode from the first
byte). The role's own state, delivered documents and snapshots live in a root-only directory outside the agent's
tree; the agent's own steps (its downloader, translator and fetch-config) run as the user that owns the agent's
etc/, in a fresh scratch directory that user owns, since they read and write inside the tree that user controls.
Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_plan
from ansible_collections.observability.cloudwatch.plugins.module_utils import agent_snapshot
from ansible_collections.observability.cloudwatch.plugins.module_utils import host_dirs
from ansible_collections.observability.cloudwatch.plugins.module_utils import host_files
from ansible_collections.observability.cloudwatch.plugins.module_utils import log_access
from ansible_collections.observability.cloudwatch.plugins.module_utils.agent_files import agent_trust, diff_of, ensure_absent, ensure_present
from ansible_collections.observability.cloudwatch.plugins.module_utils.run_as import owner_of_dir, run_as

# The configuration the host had before the role, as earlier versions of the role kept it in the agent's etc/.
LEGACY_TAKEOVER = "observability.cloudwatch.pre-ansible"


class AgentApplyError(Exception):
    """A step of the agent's that failed, with what the agent said and what was left as it was."""


class Applier(object):
    """Applies one host's plan; collects whether anything changed and the diffs that may be shown."""

    def __init__(self, args, check_mode, want_diff):
        self.args, self.check_mode, self.want_diff = args, check_mode, want_diff
        self.paths = args["paths"]
        self.etc = os.path.join(self.paths["prefix"], "etc")
        self.changed = False
        self.diff = []
        self.users = agent_plan.agent_users(args["held"].get("managed_state"))

    def trust(self, user):
        return agent_trust(self.paths["prefix"], self.users + [user])

    def note(self, changed, diffs=()):
        self.changed |= changed
        if changed and self.want_diff:
            self.diff.extend(diffs)

    # --- files ---------------------------------------------------------------------------------------------
    def ensure_file(self, want, user):
        trust = self.trust(user)
        parent = os.path.dirname(want["path"])
        if host_files.list_dir(parent) is None and not trust.inside(parent):
            # The drop-in's directory, or the credentials file's outside the agent's tree: root's.
            self.note(True)
            if not self.check_mode:
                host_dirs.ensure_dir(parent, 0, 0, 0o755, trust)
        who = dict((role, user if want[role] == "agent" else want[role]) for role in ("owner", "group"))
        uid = host_files.user_ids(who["owner"])[0]
        gid = host_files.user_ids(who["group"])[1] if want["group"] == "agent" else host_files.group_id(who["group"])
        data = want["content"].encode("utf-8")
        changed, before, after, old = ensure_present(want["path"], data, uid, gid, int(want["mode"], 8), trust, self.check_mode)
        self.note(changed, diff_of(before, after, old, data, want["secret"]))

    def ensure_files(self, user):
        for want in self.args["files"]:
            self.ensure_file(want, user)

    def remove_files(self, user):
        for path in self.args["absent"]:
            changed, before, after = ensure_absent(path, self.trust(user), self.check_mode)
            self.note(changed, [{"before": before, "after": after}])

    # --- the agent's own steps, as the owner of its etc/ ------------------------------------------------------
    def agent_step(self, argv):
        rc, out, err = run_as(argv, owner_of_dir(self.etc))
        return rc, ("%s %s" % (out, err)).strip()

    def scratch(self):
        """A fresh directory of the agent's user's, with a way to make directories and files in it for that user."""
        uid, gid = host_files.user_ids(owner_of_dir(self.etc))
        path = host_dirs.scratch_dir(uid, gid)
        trust = host_files.Trust(path, [uid], [gid])
        return path, lambda name: host_dirs.ensure_dir(os.path.join(path, name), uid, gid, 0o700, trust), \
            lambda name, text: host_files.write(os.path.join(path, name), text.encode("utf-8"), uid, gid, 0o600, trust)

    def download(self):
        """The parameters as the agent's downloader reads them with this host's credentials."""
        docs = []
        scratch, make_dir, dummy = self.scratch()
        try:
            for index, name in enumerate(self.args["download"]):
                out = os.path.join(scratch, str(index))
                make_dir(str(index))
                rc, said = self.agent_step([self.bin("config-downloader"), "--output-dir", out, "--download-source",
                                            "ssm:" + name, "--mode", self.args["mode"], "--config", self.paths["common_config"],
                                            "--multi-config", "default"])
                if rc != 0:
                    raise AgentApplyError("The agent could not read %s from Parameter Store with this host's credentials: %s "
                                          "Nothing was changed in the agent's configuration." % (name, said))
                entries = host_dirs.read_entries(out)
                content = entries.get("ssm_%s.tmp" % agent_plan.escaped(name))
                if content is None:
                    raise AgentApplyError("The agent's downloader wrote no document for %s. Nothing was changed in the "
                                          "agent's configuration." % name)
                docs.append(agent_plan.downloaded(name, content.decode("utf-8")))
        finally:
            host_dirs.remove_tree(scratch, host_files.Trust())
        return docs

    def bin(self, name):
        return os.path.join(self.paths["prefix"], "bin", name)

    def apply_config(self, docs):
        """Check the documents with the installed translator, keep the current configuration, then apply.

        The documents are handed over in a directory of the agent's user's: fetch-config reads them as that user.
        In check mode only the translator's check runs (it writes into the scratch directory alone).
        """
        scratch, make_dir, write = self.scratch()
        try:
            locations = []
            for doc in docs:
                if doc["location"].startswith("file:"):
                    write(doc["location"][len("file:"):], doc["content"])
                    locations.append("file:" + os.path.join(scratch, doc["location"][len("file:"):]))
                else:
                    locations.append(doc["location"])
            make_dir("check")
            check = os.path.join(scratch, "check")
            for doc in docs:
                write(os.path.join("check", doc["dname"] + ".tmp"), doc["content"])
            rc, said = self.agent_step([self.bin("config-translator"), "--input", os.path.join(check, "amazon-cloudwatch-agent.json"),
                                        "--input-dir", check, "--output", os.path.join(check, "amazon-cloudwatch-agent.toml"),
                                        "--mode", self.args["mode"], "--config", self.paths["common_config"], "--multi-config", "default"])
            if rc != 0:
                raise AgentApplyError("The agent %s rejects the new configuration (%s); the host keeps its current one. "
                                      "Translator output: %s" % (self.args["held"].get("version"), ", ".join(d["source"] for d in docs), said))
            if self.check_mode:
                return
            self.snapshot()
            for index, location in enumerate(locations):
                rc, said = self.agent_step([self.bin("amazon-cloudwatch-agent-ctl"), "-a", "fetch-config" if index == 0 else "append-config",
                                            "-m", self.args["mode"], "-c", location])
                if rc != 0:
                    raise AgentApplyError("amazon-cloudwatch-agent-ctl could not apply %s: %s" % (location, said))
        finally:
            host_dirs.remove_tree(scratch, host_files.Trust())

    # --- the role's own directory ------------------------------------------------------------------------------
    def snapshot(self):
        held, state_dir = self.args["held"], self.paths["state_dir"]
        trust = self.trust(owner_of_dir(self.etc))
        takeover = os.path.join(state_dir, "pre-ansible")
        if held.get("managed_state") is None and (held["config_files"] or held["json_config"]["exists"]) and not agent_snapshot.exists(takeover):
            agent_snapshot.save(self.etc, takeover, trust)
        agent_snapshot.save(self.etc, os.path.join(state_dir, "rollback"), trust)

    def migrate(self, user):
        """Move what earlier versions of the role kept inside the agent's tree into the role's own directory."""
        present = [path for path, there in sorted(self.args["held"].get("present", {}).items()) if there]
        self.note(bool(present))
        if not present or self.check_mode:
            return
        trust = self.trust(user)
        old_takeover = os.path.join(self.etc, LEGACY_TAKEOVER)
        takeover = os.path.join(self.paths["state_dir"], "pre-ansible")
        if old_takeover in present and not agent_snapshot.exists(takeover):
            agent_snapshot.save(old_takeover, takeover, trust)
        for path in present:
            host_dirs.remove_tree(path, trust)

    def deliver(self, docs):
        """The documents as the role delivered them, root's only: what --diff shows."""
        directory = self.paths["delivered_dir"]
        held = self.args["held"]["delivered_files"]
        trust = host_files.Trust()
        if not self.check_mode:
            self.note(host_dirs.ensure_dir(directory, 0, 0, 0o700, trust))
        for doc in docs:
            data = doc["content"].encode("utf-8")
            changed, before, after, old = ensure_present(os.path.join(directory, doc["stage"]), data, 0, 0, 0o600, trust, self.check_mode)
            self.note(changed, diff_of(before, after, old, data, False)[1:])
        for stage in sorted(set(held) - set(doc["stage"] for doc in docs)):
            self.note(*ensure_absent(os.path.join(directory, stage), trust, self.check_mode)[:1])

    def record(self, docs, user):
        record = agent_plan.state_record(self.args["mode"], self.args["record"], docs, user)
        if self.args["held"].get("managed_state") != record:
            self.note(True)
            if not self.check_mode:
                data = (json.dumps(record, indent=2, sort_keys=True) + "\n").encode("utf-8")
                host_files.write(self.paths["state_file"], data, 0, 0, 0o600, host_files.Trust())

    # --- the whole step -----------------------------------------------------------------------------------------
    def groups(self, needs):
        missing = agent_plan.missing_groups(needs, self.args["held"]["groups"], self.args["reader_groups"])
        if missing and not self.check_mode:
            rc, out, err = run_as(["usermod", "-a", "-G", ",".join(missing), needs["run_as_user"]], "root")
            if rc != 0:
                raise AgentApplyError("usermod could not add %s to %s: %s" % (needs["run_as_user"], ", ".join(missing), (err or out).strip()))
        self.note(bool(missing))

    def log_access(self, docs, needs):
        """The program and units that keep the collected log files readable by the agent's user, and the grants now.

        Grants made for other settings are taken back first; a changed program or unit is in place before the path
        unit is (re)started. A configuration that needs none has them removed.
        """
        held = self.args["held"]
        wanted = log_access.wanted_files(agent_plan.parsed(docs), needs["run_as_user"], self.args["allowed"]["log_paths"],
                                         self.paths, held.get("python") or log_access.DEFAULT_PYTHON,
                                         self.args["log_access_program"])
        if not wanted:
            self.remove_log_access()
            return
        spec = next(want["content"] for want in wanted if want["path"].endswith(".json"))
        self.revoke_log_access(spec)
        changed = False
        for want in wanted:
            data = want["content"].encode("utf-8")
            changed |= ensure_present(want["path"], data, 0, 0, int(want["mode"], 8), host_files.Trust(), self.check_mode)[0]
        self.note(changed)
        if changed and not self.check_mode:
            self.systemctl("daemon-reload")
            self.systemctl("enable", log_access.UNIT + ".path")
            self.systemctl("restart", log_access.UNIT + ".path")
        missing = agent_plan.missing_groups(needs, held["groups"], self.args["reader_groups"])
        try:
            self.note(bool(log_access.grant(json.loads(spec), missing, self.check_mode)))
        except log_access.LogAccessError as e:
            raise AgentApplyError("The agent's user cannot be given read access to a log file it collects: %s. Put the "
                                  "file in one of cloudwatch_agent_log_reader_groups instead." % e) from None

    def revoke_log_access(self, unless=None):
        """Take back what the settings on the host granted, unless they are still the wanted ones."""
        held = host_files.read(log_access.locations(self.paths)["spec"], host_files.Trust())
        if held is not None and held.decode("utf-8") != unless:
            self.note(bool(log_access.revoke(json.loads(held.decode("utf-8")), self.check_mode)))

    def remove_log_access(self):
        """The grants taken back, the path unit stopped, then the program and units removed (also the role's removal)."""
        where = log_access.locations(self.paths)
        self.revoke_log_access()
        if host_files.describe(where["path"], digest=False)["exists"] and not self.check_mode:
            self.systemctl("disable", "--now", log_access.UNIT + ".path")
        changed = False
        for path in sorted(where.values()):
            changed |= ensure_absent(path, host_files.Trust(), self.check_mode)[0]
        self.note(changed)
        if changed and not self.check_mode:
            self.systemctl("daemon-reload")
        return {"changed": self.changed}

    @staticmethod
    def systemctl(*argv):
        rc, out, err = run_as(["systemctl"] + list(argv), "root")
        if rc != 0:
            raise AgentApplyError("systemctl %s failed: %s" % (" ".join(argv), (err or out).strip()))

    def types_db(self, needs):
        for path in needs["types_db"]:
            if host_files.describe(path, digest=False)["exists"]:
                continue
            self.note(True)
            if not self.check_mode:
                # An empty file, as AWS documents; collectd's own file, when there is one, is kept.
                host_dirs.ensure_dir(os.path.dirname(path), 0, 0, 0o755, host_files.Trust())
                host_files.write(path, b"", 0, 0, 0o644, host_files.Trust())

    def apply(self):
        args, held = self.args, self.args["held"]
        docs = args["documents"]
        if docs is not None:
            agent_plan.check_allowed(docs, args["allowed"], self.paths["prefix"])
        # Documents read on the host: the downloader runs as the owner of etc/, who must be able to read its files.
        user = agent_plan.needs(docs)["run_as_user"] if docs is not None else owner_of_dir(self.etc)
        self.ensure_files(user)
        self.remove_files(user)
        if docs is None:
            docs = self.download()
            # Only the host sees these documents: refused here, before anything is written for them.
            agent_plan.check_allowed(docs, args["allowed"], self.paths["prefix"])
            if agent_plan.needs(docs)["run_as_user"] != user:
                user = agent_plan.needs(docs)["run_as_user"]
                self.ensure_files(user)
        needs = agent_plan.needs(docs)
        self.groups(needs)
        self.types_db(needs)
        if not self.check_mode:
            host_dirs.ensure_private_dir(self.paths["state_dir"])
        self.log_access(docs, needs)
        self.migrate(user)
        self.deliver(docs)
        applied = agent_plan.config_changed(docs, held, args["mode"])
        if applied:
            self.note(True)
            self.apply_config(docs)
        self.record(docs, user)
        return {"changed": self.changed, "applied": applied, "run_as_user": user, "diff": self.diff}

    def rollback(self):
        snapshot = os.path.join(self.paths["state_dir"], "rollback")
        if not agent_snapshot.exists(snapshot):
            raise AgentApplyError("no configuration was kept for rollback at %s" % snapshot)
        owner = owner_of_dir(self.etc)
        uid, gid = host_files.user_ids(owner)
        agent_snapshot.restore(self.etc, snapshot, self.trust(owner), uid, gid)
        return {"changed": True}
