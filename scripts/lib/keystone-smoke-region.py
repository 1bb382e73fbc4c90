#!/usr/bin/python3
"""A Keystone region of one swiftclient smoke run, whose object-store endpoint is that run's sluice.

  keystone-smoke-region.py add FIXTURES URL_TEMPLATE PID   create it; prints the region id
  keystone-smoke-region.py remove FIXTURES REGION          delete its endpoint, then the region

The smoke's sluice listens on an ephemeral port, but the `swift` CLI takes the storage URL from
the Keystone catalog. Patching the shared object-store endpoints (RegionOne, KEYSTONE_SWIFT_URL)
would race every other user of that Keystone; a region of the run's own, which the CLI selects
with --os-region-name, changes nothing they see in RegionOne (keystone.sh reconciles RegionOne's
endpoints only). `add` also removes the regions of earlier runs whose process is gone (a run
that was killed could not clean up): a region's description records its run's pid and start time. Acts as the fixtures' bootstrap admin; standard library
only; nothing secret is printed.
"""

import json
import os
import secrets
import sys
import urllib.error
import urllib.request

PREFIX = "sluice-smoke-"


class Keystone:
    def __init__(self, fixtures):
        f = json.load(open(fixtures))
        self.v3 = f["keystone"]["v3_url"]
        admin = f["users"]["admin"]
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "id": admin["id"], "password": admin["password"]}}},
            "scope": {"project": {"id": admin["project_id"]}}}}
        _, headers, _ = self.call("POST", "/auth/tokens?nocatalog", body, token=None)
        self.token = headers["X-Subject-Token"]

    def call(self, method, path, body=None, token=""):
        req = urllib.request.Request(self.v3 + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("X-Auth-Token", token or self.token)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                raw = res.read()
                return res.status, res.headers, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raise SystemExit("error: %s %s answered %s" % (method, path.split("?")[0], e.code)) from None


def started(pid):
    """The process's start time (clock ticks after boot), or None once it is gone."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return None


def owner_of(pid):
    """What a region's description records of its run: the pid and its start time, so a
    later process that reuses the pid is not taken for it."""
    return "pid %s started %s" % (pid, started(pid))


def remove(ks, region):
    _, _, doc = ks.call("GET", "/endpoints?region_id=" + region)
    for e in doc["endpoints"]:
        ks.call("DELETE", "/endpoints/" + e["id"])
    ks.call("DELETE", "/regions/" + region)


def main(argv):
    if len(argv) == 5 and argv[1] == "add":
        _, _, fixtures, url, pid = argv
        ks = Keystone(fixtures)
        # Regions of runs that are gone: their description names the run's pid.
        for r in ks.call("GET", "/regions")[2]["regions"]:
            recorded = (r.get("description") or "").partition(", ")[2]
            run = recorded.split(" ")[1] if recorded.startswith("pid ") else ""
            if r["id"].startswith(PREFIX) and not (run.isdigit() and owner_of(run) == recorded):
                remove(ks, r["id"])
        if not pid.isdigit() or started(pid) is None:
            raise SystemExit("error: no process %s" % pid)
        region = PREFIX + secrets.token_hex(4)
        ks.call("POST", "/regions", {"region": {"id": region, "description": "sluice swiftclient smoke, " + owner_of(pid)}})
        svc = ks.call("GET", "/services?type=object-store")[2]["services"]
        if len(svc) != 1:
            raise SystemExit("error: expected one object-store service, found %d" % len(svc))
        ks.call("POST", "/endpoints", {"endpoint": {"service_id": svc[0]["id"], "interface": "public",
                                                    "url": url, "region_id": region, "enabled": True}})
        print(region)
    elif len(argv) == 4 and argv[1] == "remove" and argv[3].startswith(PREFIX):
        remove(Keystone(argv[2]), argv[3])
    else:
        raise SystemExit("usage: keystone-smoke-region.py add FIXTURES URL_TEMPLATE PID | remove FIXTURES %s..." % PREFIX)


if __name__ == "__main__":
    main(sys.argv)
